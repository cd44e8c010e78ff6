namespace Storage.Directory;

/// <summary>A shard's slice of the 64-bit hash space, [<see cref="Start"/>, <see cref="End"/>] with both ends inclusive.</summary>
public readonly record struct ShardRange
{
    public ShardRange(int shardId, ulong start, ulong end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shardId);
        if (end < start)
        {
            throw new ArgumentException($"range end {end:x16} is below its start {start:x16}");
        }

        ShardId = shardId;
        Start = start;
        End = end;
    }

    public int ShardId { get; }

    public ulong Start { get; }

    public ulong End { get; }

    /// <summary>Number of hashes in the range; the whole space is 2^64, hence UInt128.</summary>
    public UInt128 Width => (UInt128)(End - Start) + 1;

    public bool Contains(ulong hash) => hash >= Start && hash <= End;

    /// <summary>The split point that halves the range: the upper half starts here. Needs a range of at least 2 hashes.</summary>
    public ulong Midpoint =>
        Start != End
            ? Start + ((End - Start) / 2) + 1
            : throw new InvalidOperationException($"shard {ShardId} covers a single hash and cannot be split");

    public override string ToString() => $"shard {ShardId} [{Start:x16}, {End:x16}]";
}
