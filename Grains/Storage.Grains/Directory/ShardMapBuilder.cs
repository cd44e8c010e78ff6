namespace Storage.Directory;

/// <summary>
/// Builds and evolves <see cref="ShardMap"/>s. Replica ids come from the map's monotone
/// <see cref="ShardMap.NextReplicaId"/> counter, starting at 1 (Raft reserves 0 for "nobody"), so an id is
/// unique across the whole map and never handed out twice — not even after the replica holding the highest
/// id was removed, which a "shardId × 1000 + ordinal" scheme would reuse (and which caps a shard at 1000
/// replica generations).
/// </summary>
public static class ShardMapBuilder
{
    /// <summary>
    /// The initial map (version 1): <paramref name="shardCount"/> equal hash ranges, each with
    /// <paramref name="replicationFactor"/> replicas (fewer if there are fewer eligible silos) placed by
    /// <see cref="PreferenceListPlacement"/>; replica ids 1, 2, … in shard order, preferred leader first.
    /// </summary>
    public static ShardMap Build(int shardCount, int replicationFactor, IEnumerable<SiloInfo> silos, int virtualNodesPerWeight = PreferenceListPlacement.DefaultVirtualNodesPerWeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        var ring = HashRing.Uniform(shardCount);
        var placement = new PreferenceListPlacement(silos, virtualNodesPerWeight);
        var placed = placement.Place(ring.Ranges.Select(r => r.ShardId), replicationFactor);

        long nextReplicaId = 1;
        var shards = new ShardInfo[ring.Count];
        for (int i = 0; i < ring.Count; i++)
        {
            var range = ring.Ranges[i];
            var replicas = placed[range.ShardId]
                .Select(s => new ReplicaInfo(nextReplicaId++, s.SiloKey, s.Region, s.Zone))
                .ToArray();
            shards[i] = new ShardInfo(range.ShardId, range.Start, range.End, replicas);
        }

        var map = new ShardMap(1, shards, nextReplicaId);
        map.Validate();
        return map;
    }

    /// <summary>
    /// Splits shard <paramref name="shardId"/> at <paramref name="splitAt"/> (see <see cref="HashRing.Split(int, ulong)"/>):
    /// the parent keeps the lower part; a new shard with the next unused id takes [splitAt, end]. The new shard's
    /// replicas get fresh ids but sit on the parent's silos, in the parent's order, because a split is carried out
    /// by the parent's replicas forking their own state — no data crosses the network; rebalancing may move the
    /// new replicas afterwards; replica k of the parent forks into replica k of the child, with the same role. The new
    /// shard records its parent (<see cref="ShardInfo.ParentShard"/>) so that its replicas never bootstrap as an empty
    /// new group. Returns a map with version + 1; no other shard changes.
    /// </summary>
    public static ShardMap Split(ShardMap map, int shardId, ulong splitAt)
    {
        ArgumentNullException.ThrowIfNull(map);
        map.Validate();
        var parent = map.FindShard(shardId) ?? throw new KeyNotFoundException($"shard {shardId} is not in map version {map.Version}");
        var ring = HashRing.FromShardMap(map);
        int newShardId = ring.NextShardId;
        var split = ring.Split(shardId, splitAt, newShardId);

        long nextReplicaId = map.NextReplicaId;
        var child = new ShardInfo(
            newShardId,
            splitAt,
            parent.RangeEnd,
            parent.Replicas.Select(r => r with { ReplicaId = nextReplicaId++ }).ToArray(),
            ParentShard: shardId);
        var shrunk = parent with { RangeEnd = splitAt - 1 };

        var byId = map.Shards.ToDictionary(s => s.ShardId);
        byId[shardId] = shrunk;
        byId[newShardId] = child;
        var shards = split.Ranges.Select(r => byId[r.ShardId]).ToArray();
        var result = new ShardMap(map.Version + 1, shards, nextReplicaId);
        result.Validate();
        return result;
    }
}
