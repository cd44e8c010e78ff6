namespace Storage.Directory;

/// <summary>Which silo gets an added replica and which replica goes when a shard has too many voters.</summary>
public static class MembershipChoices
{
    /// <summary>
    /// A silo for a new replica of shard <paramref name="shardId"/>: one of <paramref name="silos"/> (weight above 0)
    /// that holds none of the shard's replicas, in a region the shard does not use yet if there is one, then a zone, then
    /// the silo with the fewest replicas (name order breaks ties); null if every silo holds one already.
    /// </summary>
    /// <remarks>The simplest correct choice, until the rebalance planner's <c>RebalancePlanner.ChooseSilo</c> (the lead swaps it in).</remarks>
    public static SiloInfo? ChooseSilo(ShardMap map, int shardId, IReadOnlyCollection<SiloInfo> silos)
    {
        var shard = map.FindShard(shardId) ?? throw new ArgumentException($"shard {shardId} is not in map version {map.Version}", nameof(shardId));
        var held = shard.Replicas.Select(r => r.SiloKey).ToHashSet(StringComparer.Ordinal);
        var regions = shard.Replicas.Select(r => r.Region).ToHashSet(StringComparer.Ordinal);
        var zones = shard.Replicas.Select(r => (r.Region, r.Zone)).ToHashSet();
        var load = map.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.SiloKey).ToDictionary(g => g.Key, g => g.Count());
        return silos
            .Where(s => s.Weight > 0 && !held.Contains(s.SiloKey))
            .OrderBy(s => regions.Contains(s.Region))
            .ThenBy(s => zones.Contains((s.Region, s.Zone)))
            .ThenBy(s => load.GetValueOrDefault(s.SiloKey))
            .ThenBy(s => s.SiloKey, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>
    /// The voter to remove from a shard with too many: one on a silo outside <paramref name="usable"/> (gone or
    /// draining) first, otherwise the least preferred (last in the map's order, so the preferred leader stays); 0 if
    /// the shard has a single voter.
    /// </summary>
    public static long ChooseLeaving(ShardInfo shard, IReadOnlySet<string> usable)
    {
        var voters = shard.Replicas.Select((r, i) => (Replica: r, Order: i)).Where(v => v.Replica.Role == ReplicaRole.Voter).ToList();
        if (voters.Count <= 1)
        {
            return 0;
        }

        return voters
            .OrderBy(v => usable.Contains(v.Replica.SiloKey))
            .ThenByDescending(v => v.Order)
            .First().Replica.ReplicaId;
    }
}
