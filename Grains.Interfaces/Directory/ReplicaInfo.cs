namespace Storage;

/// <summary>
/// One replica of a shard: its Raft node id (unique in the whole map and never reused, see
/// <see cref="ShardMap.NextReplicaId"/>) and the silo the directory placed it on.
/// </summary>
[GenerateSerializer, Alias("Storage.ReplicaInfo")]
public sealed record ReplicaInfo(
    [property: Id(0)] long ReplicaId,
    [property: Id(1)] string SiloKey,
    [property: Id(2)] string Region,
    [property: Id(3)] string Zone);
