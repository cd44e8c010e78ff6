namespace Storage.Cli;

/// <summary>How many replicas and leaders run on one silo, counted from one <see cref="ClusterStatus"/>.</summary>
internal readonly record struct SiloCounts(int Replicas, int Leaders)
{
    /// <summary>
    /// Counts by silo name, from where each replica reported itself. An unreachable replica did not report, so
    /// it is not counted anywhere (its row names the silo the map assigns it, not one it is known to run on).
    /// </summary>
    public static IReadOnlyDictionary<string, SiloCounts> Of(ClusterStatus status)
    {
        var counts = new Dictionary<string, SiloCounts>(StringComparer.Ordinal);
        foreach (var shard in status.Shards)
        {
            foreach (var replica in shard.Replicas.Where(r => r.Reachable))
            {
                var seen = counts.GetValueOrDefault(replica.Silo);
                counts[replica.Silo] = new SiloCounts(seen.Replicas + 1, seen.Leaders + (replica.ReplicaId == shard.LeaderReplica ? 1 : 0));
            }
        }

        return counts;
    }

    /// <summary>
    /// The counts of one silo row. A dead silo runs nothing, whatever replica reports name it (a silo
    /// that restarted is its own row), so only rows that are not dead get the name's counts.
    /// </summary>
    public static SiloCounts For(IReadOnlyDictionary<string, SiloCounts> counts, ClusterSilo silo) =>
        silo.State == "Dead" ? default : counts.GetValueOrDefault(silo.Name);
}
