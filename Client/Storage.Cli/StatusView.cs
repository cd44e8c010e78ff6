using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Storage.Cli;

/// <summary>Renders <see cref="ClusterStatus"/> as two tables: the silos, then one row per replica grouped by shard.</summary>
internal static class StatusView
{
    public static void Render(IAnsiConsole console, ClusterStatus status)
    {
        var leaders = status.Shards.Count(s => s.LeaderReplica != 0);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"shard map version {status.ShardMapVersion}: {status.Silos.Count(s => s.State == "Active")} active silos, {status.Shards.Count} shards, {leaders} with a leader"));

        var silos = new Table().Title("silos");
        foreach (var column in new[] { "address", "name", "region", "zone", "state" })
        {
            silos.AddColumn(column);
        }

        foreach (var silo in status.Silos)
        {
            silos.AddRow(Cells(silo.Address, silo.Name, Blank(silo.Region), Blank(silo.Zone), silo.State));
        }

        console.Write(silos);

        var shards = new Table().Title("shards");
        foreach (var column in new[] { "shard", "leader", "replica", "silo", "role", "term", "commit", "applied", "apply lag" })
        {
            shards.AddColumn(column);
        }

        foreach (var column in new[] { 0, 1, 2, 5, 6, 7, 8 })
        {
            shards.Columns[column].RightAligned();
        }

        foreach (var shard in status.Shards.OrderBy(s => s.ShardId))
        {
            var first = true;
            foreach (var replica in shard.Replicas.OrderBy(r => r.ReplicaId))
            {
                var role = !replica.Reachable ? "unreachable" : replica.IsLearner ? $"{replica.Role} (learner)" : replica.Role;
                shards.AddRow(Cells(
                    first ? N(shard.ShardId) : "",
                    first ? (shard.LeaderReplica == 0 ? "none" : N(shard.LeaderReplica)) : "",
                    N(replica.ReplicaId),
                    replica.Silo,
                    role,
                    replica.Reachable ? N(replica.Term) : "-",
                    replica.Reachable ? N(replica.CommitIndex) : "-",
                    replica.Reachable ? N(replica.AppliedIndex) : "-",
                    replica.Reachable ? N(replica.ApplyLag) : "-"));
                first = false;
            }
        }

        console.Write(shards);
    }

    // Text, not markup: silo names and addresses may contain '[' which markup would parse.
    private static IEnumerable<IRenderable> Cells(params string[] values) => values.Select(v => new Text(v));

    private static string Blank(string value) => value.Length == 0 ? "-" : value;

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
