namespace Storage.Directory;

/// <summary>
/// One step of <see cref="RebalancePlanner"/>: replica moves (at most one per shard) and new preferred leaders
/// (shard id → replica id; only shards whose preferred leader changes).
/// </summary>
public sealed record RebalancePlan(IReadOnlyList<PlannedMove> Moves, IReadOnlyDictionary<int, long> PreferredLeaders)
{
    public static RebalancePlan Empty { get; } = new([], new Dictionary<int, long>());

    public bool IsEmpty => Moves.Count == 0 && PreferredLeaders.Count == 0;

    /// <summary>
    /// The map after this plan: each moved replica's silo, region and zone replaced by its new silo's; each shard in
    /// <see cref="PreferredLeaders"/> reordered so that replica comes first (the others keep their order); version + 1.
    /// The same instance when the plan is empty. Throws <see cref="InvalidOperationException"/> if the plan does not fit
    /// the map (a replica not where the move says, an unknown silo, a result that fails <see cref="ShardMap.Validate"/>).
    /// </summary>
    public ShardMap ApplyTo(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(silos);
        if (IsEmpty)
        {
            return map;
        }

        var byKey = new Dictionary<string, SiloInfo>(StringComparer.Ordinal);
        foreach (var silo in silos)
        {
            byKey[silo.SiloKey] = silo;
        }

        var shards = map.Shards.ToDictionary(s => s.ShardId, s => s.Replicas.ToList());
        foreach (var move in Moves)
        {
            var replicas = shards.GetValueOrDefault(move.ShardId)
                ?? throw new InvalidOperationException($"move of replica {move.ReplicaId}: shard {move.ShardId} is not in map version {map.Version}");
            int index = replicas.FindIndex(r => r.ReplicaId == move.ReplicaId);
            if (index < 0 || replicas[index].SiloKey != move.From)
            {
                throw new InvalidOperationException($"move of replica {move.ShardId}/{move.ReplicaId}: it is not on silo '{move.From}' in map version {map.Version}");
            }

            var to = byKey.GetValueOrDefault(move.To)
                ?? throw new InvalidOperationException($"move of replica {move.ShardId}/{move.ReplicaId}: silo '{move.To}' is unknown");
            replicas[index] = replicas[index] with { SiloKey = to.SiloKey, Region = to.Region, Zone = to.Zone };
        }

        foreach (var (shardId, replicaId) in PreferredLeaders)
        {
            var replicas = shards.GetValueOrDefault(shardId)
                ?? throw new InvalidOperationException($"preferred leader {replicaId}: shard {shardId} is not in map version {map.Version}");
            int index = replicas.FindIndex(r => r.ReplicaId == replicaId);
            if (index < 0)
            {
                throw new InvalidOperationException($"preferred leader {replicaId} is not a replica of shard {shardId} in map version {map.Version}");
            }

            var leader = replicas[index];
            replicas.RemoveAt(index);
            replicas.Insert(0, leader);
        }

        var result = new ShardMap(
            map.Version + 1,
            map.Shards.Select(s => s with { Replicas = shards[s.ShardId].ToArray() }).ToArray(),
            map.NextReplicaId);
        result.Validate();
        return result;
    }
}
