using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Storage.Cli;

/// <summary>
/// Renders <see cref="ClusterStatus"/> as tables: the silos with how many replicas and leaders each runs (a drained
/// silo's state says so), the replica moves in flight (when there are any), then one row per replica grouped by shard.
/// </summary>
internal static class StatusView
{
    /// <param name="console">Where to draw.</param>
    /// <param name="status">What the cluster reported.</param>
    /// <param name="showDead">
    /// Also list dead silos. Orleans keeps a dead incarnation's row in the membership table (for days by default),
    /// and a restarted silo shows up again at the same address, so by default they are only counted.
    /// </param>
    public static void Render(IAnsiConsole console, ClusterStatus status, bool showDead)
    {
        var leaders = status.Shards.Count(s => s.LeaderReplica != 0);
        var dead = status.Silos.Count(s => s.State == "Dead");
        var hidden = showDead || dead == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" ({dead} dead silo entries not shown: --dead lists them)");
        var moves = status.Moves ?? [];
        var draining = status.Draining ?? [];
        var work = string.Create(CultureInfo.InvariantCulture, $"; {moves.Count} {(moves.Count == 1 ? "move" : "moves")} in flight")
            + (draining.Count == 0 ? "" : $"; draining {string.Join(", ", draining)}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"shard map version {status.ShardMapVersion}: {status.Silos.Count(s => s.State == "Active")} active silos, {status.Shards.Count} shards, {leaders} with a leader{work}{hidden}"));

        var silos = new Table().Title("silos");
        foreach (var column in new[] { "address", "name", "region", "zone", "state", "replicas", "leaders" })
        {
            silos.AddColumn(column);
        }

        silos.Columns[5].RightAligned();
        silos.Columns[6].RightAligned();
        var counts = SiloCounts.Of(status);

        // Live silos first; among the dead, the newest incarnation is not knowable from the status, so keep the server's order.
        foreach (var silo in status.Silos.Where(s => showDead || s.State != "Dead").OrderBy(s => s.State == "Dead"))
        {
            var count = SiloCounts.For(counts, silo);
            // A drained silo keeps its membership state; the drain is the operator's (or its shutdown's) request on top.
            var state = draining.Contains(silo.Name, StringComparer.Ordinal) ? $"{silo.State}, draining" : silo.State;
            silos.AddRow(Cells(silo.Address, silo.Name, Blank(silo.Region), Blank(silo.Zone), state, N(count.Replicas), N(count.Leaders)));
        }

        console.Write(silos);
        if (moves.Count > 0)
        {
            console.Write(MovesTable(moves, DateTime.UtcNow));
        }

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

    /// <summary>The moves the directory has persisted and not yet seen finished, oldest first, with how long each has taken so far.</summary>
    private static Table MovesTable(IReadOnlyList<ReplicaMove> moves, DateTime now)
    {
        var table = new Table().Title("moves in flight");
        foreach (var column in new[] { "shard", "replica", "from", "to", "kind", "map version", "for" })
        {
            table.AddColumn(column);
        }

        foreach (var column in new[] { 0, 1, 5, 6 })
        {
            table.Columns[column].RightAligned();
        }

        foreach (var move in moves.OrderBy(m => m.StartedAt).ThenBy(m => m.ShardId))
        {
            var age = now - move.StartedAt;
            table.AddRow(Cells(
                N(move.ShardId),
                N(move.ReplicaId),
                move.From,
                move.To,
                move.Kind == MoveKind.Relocate ? "relocate" : "replace",
                N(move.MapVersion),
                string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, age.TotalSeconds):0} s")));
        }

        return table;
    }

    // Text, not markup: silo names and addresses may contain '[' which markup would parse.
    private static IEnumerable<IRenderable> Cells(params string[] values) => values.Select(v => new Text(v));

    private static string Blank(string value) => value.Length == 0 ? "-" : value;

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
