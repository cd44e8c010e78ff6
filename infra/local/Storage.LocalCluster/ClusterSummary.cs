using System.Globalization;
using System.Text;

namespace Storage.LocalCluster;

/// <summary>What the launcher prints once the cluster is up: where everything is and how to use it.</summary>
internal static class ClusterSummary
{
    public static string Format(LocalCluster cluster, ClusterStatus status)
    {
        var inv = CultureInfo.InvariantCulture;
        var names = cluster.Silos.ToDictionary(s => s.SiloKey, s => s.Name, StringComparer.Ordinal);
        string NameOf(string siloKey) => names.TryGetValue(siloKey, out var name) ? name : siloKey;

        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(inv, $"Local cluster '{cluster.Options.ClusterId}' is running: {cluster.Silos.Count} silos, {status.Shards.Count} shards, every shard has a leader.");
        text.AppendLine();
        Table(text, ["silo", "region/zone", "pid", "silo port", "gateway", "http", "log"], cluster.Silos.Select(s => new[]
        {
            s.Name,
            $"{s.Region}/{s.Zone}",
            s.Pid.ToString(inv),
            s.SiloPort.ToString(inv),
            s.GatewayPort.ToString(inv),
            s.HttpPort.ToString(inv),
            Show(s.LogFile),
        }));
        text.AppendLine();
        Table(text, ["shard", "leader", "replicas (silo: commit/applied)"], status.Shards.OrderBy(s => s.ShardId).Select(shard =>
        {
            var leader = shard.Replicas.FirstOrDefault(r => r.ReplicaId == shard.LeaderReplica);
            return new[]
            {
                shard.ShardId.ToString(inv),
                leader is null ? "none" : $"{shard.LeaderReplica} on {NameOf(leader.Silo)}",
                string.Join("  ", shard.Replicas.Select(r => $"{r.ReplicaId}@{NameOf(r.Silo)}: {r.CommitIndex}/{r.AppliedIndex}")),
            };
        }));
        text.AppendLine();

        text.AppendLine(inv, $"PostgreSQL: {cluster.ConnectionString}");
        if (cluster.Postgres is { } pg)
        {
            text.AppendLine(inv, $"  embedded, data {Show(pg.DataDirectory)}, log {Show(pg.LogFile)}{(pg.OwnsServer ? string.Empty : " (already running: attached, left running on stop)")}");
        }

        text.AppendLine(inv, $"Launcher state (pids): {Show(cluster.StateFile)}");
        text.AppendLine();
        var cs = cluster.ConnectionString.Replace("\"", "\\\"", StringComparison.Ordinal);
        var cli = CliCommand();
        text.AppendLine(cli == "storage"
            ? "Use it (storage is the CLI of Client/Storage.Cli; infra/local/run.sh builds it):"
            : "Use it:");
        text.AppendLine(inv, $"  {cli} --connection-string \"{cs}\" put greeting hello");
        text.AppendLine(inv, $"  {cli} --connection-string \"{cs}\" get greeting");
        text.AppendLine(inv, $"  {cli} --connection-string \"{cs}\" status");
        text.AppendLine(inv, $"  curl {cluster.Silos[0].ReadyUrl}");
        text.AppendLine(inv, $"An Orleans client: UseAdoNetClustering(Invariant = \"Npgsql\", that connection string), ClusterId '{cluster.Options.ClusterId}', ServiceId '{cluster.Options.ServiceId}', then GetGrain<IStore>(0).");
        text.AppendLine();
        text.AppendLine(cluster.Postgres is not null
            ? "Press Ctrl-C to stop every silo and the embedded PostgreSQL (data stays in the data folder for the next run)."
            : "Press Ctrl-C to stop every silo.");
        return text.ToString();
    }

    /// <summary>The built storage CLI of this checkout (Release first), else plain "storage".</summary>
    private static string CliCommand()
    {
        if (RepositoryRoot.Find() is { } root)
        {
            foreach (var configuration in new[] { "Release", "Debug" })
            {
                var cli = Path.Combine(root, "Client", "Storage.Cli", "bin", configuration, "net10.0", "storage");
                if (File.Exists(cli))
                {
                    var shown = Show(cli);
                    return shown == cli || shown.Contains('/', StringComparison.Ordinal) ? shown : "./" + shown;
                }
            }
        }

        return "storage";
    }

    /// <summary>A path relative to the current directory when it is below it: shorter, and copy-pasteable from there.</summary>
    private static string Show(string path)
    {
        var relative = Path.GetRelativePath(System.IO.Directory.GetCurrentDirectory(), path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    private static void Table(StringBuilder text, string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        foreach (var row in all)
        {
            text.Append("  ");
            for (var c = 0; c < row.Length; c++)
            {
                text.Append(c == row.Length - 1 ? row[c] : row[c].PadRight(widths[c] + 2));
            }

            text.AppendLine();
        }
    }
}
