namespace Storage;

/// <summary>
/// What <c>storage status</c> shows: the silos and every shard's replicas, the replica moves in flight and the silos
/// being drained.
/// </summary>
[GenerateSerializer, Alias("Storage.ClusterStatus")]
public sealed record ClusterStatus(
    [property: Id(0)] long ShardMapVersion,
    [property: Id(1)] IReadOnlyList<ClusterSilo> Silos,
    [property: Id(2)] IReadOnlyList<ShardStatus> Shards,
    [property: Id(3)] IReadOnlyList<ReplicaMove>? Moves = null,
    [property: Id(4)] IReadOnlyList<string>? Draining = null);

[GenerateSerializer, Alias("Storage.ClusterSilo")]
public sealed record ClusterSilo(
    [property: Id(0)] string Address,
    [property: Id(1)] string Name,
    [property: Id(2)] string Region,
    [property: Id(3)] string Zone,
    [property: Id(4)] string State);

[GenerateSerializer, Alias("Storage.ShardStatus")]
public sealed record ShardStatus(
    [property: Id(0)] int ShardId,
    [property: Id(1)] long LeaderReplica,
    [property: Id(2)] IReadOnlyList<ReplicaStatus> Replicas);

/// <summary>One replica as it reports itself; <see cref="Reachable"/> is false when it did not answer.</summary>
[GenerateSerializer, Alias("Storage.ReplicaStatus")]
public sealed record ReplicaStatus(
    [property: Id(0)] long ReplicaId,
    [property: Id(1)] string Silo,
    [property: Id(2)] string Role,
    [property: Id(3)] long Term,
    [property: Id(4)] long CommitIndex,
    [property: Id(5)] long AppliedIndex,
    [property: Id(6)] bool Reachable,
    [property: Id(7)] bool IsLearner,
    [property: Id(8)] long Incarnation = 0,
    [property: Id(9)] long DataBytes = 0,
    [property: Id(10)] long KeyCount = 0,
    [property: Id(11)] long WritesApplied = 0,
    [property: Id(12)] long RangeVersion = 0)
{
    public long ApplyLag => Math.Max(0, CommitIndex - AppliedIndex);
}
