namespace Storage;

/// <summary>
/// One replica of a shard: its Raft node id (unique in the whole map and never reused, see
/// <see cref="ShardMap.NextReplicaId"/>), the silo the directory placed it on (by silo name, see
/// <c>Storage.Directory.SiloKeys</c>) with that silo's region and zone, and whether it votes.
/// </summary>
[GenerateSerializer, Alias("Storage.ReplicaInfo")]
public sealed record ReplicaInfo(
    [property: Id(0)] long ReplicaId,
    [property: Id(1)] string SiloKey,
    [property: Id(2)] string Region,
    [property: Id(3)] string Zone,
    [property: Id(4)] ReplicaRole Role = ReplicaRole.Voter);
