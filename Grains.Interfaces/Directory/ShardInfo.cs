namespace Storage;

/// <summary>
/// One shard: the keys whose <see cref="KeyHash"/> lies in [<see cref="RangeStart"/>, <see cref="RangeEnd"/>]
/// (both inclusive, so the last range can end at <see cref="ulong.MaxValue"/>), and its replicas.
/// <see cref="Replicas"/>[0] is the preferred leader; the rest follow in placement preference order.
/// <see cref="ParentShard"/> is the shard this one was split from (-1 for a shard of the first map): such a shard
/// starts from checkpoints its parent's replicas write when they apply the split, never as an empty new group.
/// </summary>
[GenerateSerializer, Alias("Storage.ShardInfo")]
public sealed record ShardInfo(
    [property: Id(0)] int ShardId,
    [property: Id(1)] ulong RangeStart,
    [property: Id(2)] ulong RangeEnd,
    [property: Id(3)] IReadOnlyList<ReplicaInfo> Replicas,
    [property: Id(4)] int ParentShard = -1)
{
    public bool Contains(ulong hash) => hash >= RangeStart && hash <= RangeEnd;

    /// <summary>The grain key of a replica of this shard (<c>"{shard}/{replica}"</c>, see DESIGN §4).</summary>
    public string ReplicaKey(long replicaId) => new Storage.ReplicaKey(ShardId, replicaId).ToString();

    // Records compare lists by reference; a shard map is compared by content (e.g. "did the map change?").
    public bool Equals(ShardInfo? other) =>
        other is not null
        && ShardId == other.ShardId
        && RangeStart == other.RangeStart
        && RangeEnd == other.RangeEnd
        && ParentShard == other.ParentShard
        && Replicas.SequenceEqual(other.Replicas);

    public override int GetHashCode() => HashCode.Combine(ShardId, RangeStart, RangeEnd, Replicas.Count);
}
