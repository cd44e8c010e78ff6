namespace Storage.StateMachine;

/// <summary>
/// Splits a shard at a hash boundary, as one entry of the parent shard's Raft log, so that every replica applies it
/// at the same index. The parent keeps [<see cref="ParentRangeStart"/>, <see cref="SplitAt"/> - 1]; shard
/// <see cref="NewShardId"/> takes [<see cref="SplitAt"/>, <see cref="ParentRangeEnd"/>] with a copy of the
/// exactly-once table. Parent replica <see cref="ParentReplicas"/>[k] forks into child replica
/// <see cref="ChildReplicas"/>[k] (same silo, same role). Both ranges are set at <see cref="NewMapVersion"/>, the
/// shard map version that publishes the split. Not a client write: it has no <see cref="WriteId"/>, and a replica
/// refuses it on its write path (the directory proposes it through its own call).
/// </summary>
public sealed record SplitCommand
{
    public SplitCommand(ulong parentRangeStart, ulong parentRangeEnd, ulong splitAt, int newShardId, long newMapVersion, IReadOnlyList<long> parentReplicas, IReadOnlyList<long> childReplicas)
    {
        ArgumentNullException.ThrowIfNull(parentReplicas);
        ArgumentNullException.ThrowIfNull(childReplicas);
        if (parentRangeEnd < parentRangeStart || splitAt <= parentRangeStart || splitAt > parentRangeEnd)
        {
            throw new InvalidRequestException($"split point {splitAt:x16} is not in ({parentRangeStart:x16}, {parentRangeEnd:x16}]");
        }

        if (newShardId < 0 || newMapVersion < 2)
        {
            throw new InvalidRequestException($"split to shard {newShardId} at map version {newMapVersion}: the shard id must not be negative and the version must be at least 2");
        }

        if (parentReplicas.Count == 0 || parentReplicas.Count != childReplicas.Count)
        {
            throw new InvalidRequestException($"split needs as many child replicas as parent replicas (got {parentReplicas.Count} and {childReplicas.Count})");
        }

        var all = parentReplicas.Concat(childReplicas).ToList();
        if (all.Any(id => id < 1) || all.Distinct().Count() != all.Count)
        {
            throw new InvalidRequestException("split replica ids must be positive and distinct");
        }

        ParentRangeStart = parentRangeStart;
        ParentRangeEnd = parentRangeEnd;
        SplitAt = splitAt;
        NewShardId = newShardId;
        NewMapVersion = newMapVersion;
        ParentReplicas = parentReplicas.ToArray();
        ChildReplicas = childReplicas.ToArray();
    }

    /// <summary>The parent's range in the map the split was planned from (a replica that never split does not know it otherwise).</summary>
    public ulong ParentRangeStart { get; }

    public ulong ParentRangeEnd { get; }

    /// <summary>The first hash of the new shard.</summary>
    public ulong SplitAt { get; }

    public int NewShardId { get; }

    public long NewMapVersion { get; }

    public IReadOnlyList<long> ParentReplicas { get; }

    public IReadOnlyList<long> ChildReplicas { get; }

    /// <summary>The child replica that parent replica <paramref name="parentReplica"/> forks into, or 0 if it is not one of the parent's.</summary>
    public long ChildOf(long parentReplica)
    {
        for (var k = 0; k < ParentReplicas.Count; k++)
        {
            if (ParentReplicas[k] == parentReplica)
            {
                return ChildReplicas[k];
            }
        }

        return 0;
    }

    // Records compare lists by reference; a decoded command must equal the one encoded.
    public bool Equals(SplitCommand? other) =>
        other is not null
        && ParentRangeStart == other.ParentRangeStart
        && ParentRangeEnd == other.ParentRangeEnd
        && SplitAt == other.SplitAt
        && NewShardId == other.NewShardId
        && NewMapVersion == other.NewMapVersion
        && ParentReplicas.SequenceEqual(other.ParentReplicas)
        && ChildReplicas.SequenceEqual(other.ChildReplicas);

    public override int GetHashCode() => HashCode.Combine(SplitAt, NewShardId, NewMapVersion);
}
