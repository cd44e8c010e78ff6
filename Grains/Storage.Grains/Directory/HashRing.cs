namespace Storage.Directory;

/// <summary>
/// The key → shard half of the directory: the hash space [0, 2^64) cut into contiguous ranges, one per shard.
/// Immutable (a split returns a new ring) so a router can keep using its cached copy while a new one is built.
/// Unlike replica placement this is not consistent hashing with virtual nodes: ranges are explicit, which is
/// what makes splitting one hot or large shard possible without moving any other shard's keys.
/// </summary>
public sealed class HashRing
{
    private readonly ShardRange[] _ranges;

    /// <summary>Builds a ring from ranges in any order; they must cover [0, 2^64) exactly once with unique shard ids.</summary>
    public HashRing(IEnumerable<ShardRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        _ranges = ranges.OrderBy(r => r.Start).ToArray();
        if (_ranges.Length == 0)
        {
            throw new ArgumentException("a ring needs at least one range", nameof(ranges));
        }

        var ids = new HashSet<int>();
        ulong expected = 0;
        for (int i = 0; i < _ranges.Length; i++)
        {
            var r = _ranges[i];
            if (!ids.Add(r.ShardId))
            {
                throw new ArgumentException($"shard id {r.ShardId} appears twice", nameof(ranges));
            }

            if (r.Start != expected)
            {
                throw new ArgumentException($"{r} does not start at {expected:x16}: ranges overlap or leave a gap", nameof(ranges));
            }

            bool last = i == _ranges.Length - 1;
            if (last != (r.End == ulong.MaxValue))
            {
                throw new ArgumentException($"{r} ends the hash space early or the last range stops short of it", nameof(ranges));
            }

            expected = r.End + 1;
        }

        NextShardId = _ranges.Max(r => r.ShardId) + 1;
    }

    /// <summary>
    /// <paramref name="shardCount"/> ranges of equal width (±1 hash), shard i covering
    /// [floor(i·2^64/N), floor((i+1)·2^64/N) − 1].
    /// </summary>
    public static HashRing Uniform(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        var space = (UInt128)ulong.MaxValue + 1;
        var ranges = new ShardRange[shardCount];
        for (int i = 0; i < shardCount; i++)
        {
            var start = (ulong)(space * (UInt128)i / (UInt128)shardCount);
            var end = (ulong)((space * (UInt128)(i + 1) / (UInt128)shardCount) - 1);
            ranges[i] = new ShardRange(i, start, end);
        }

        return new HashRing(ranges);
    }

    public static HashRing FromShardMap(ShardMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new HashRing(map.Shards.Select(s => new ShardRange(s.ShardId, s.RangeStart, s.RangeEnd)));
    }

    /// <summary>Ranges sorted by start.</summary>
    public IReadOnlyList<ShardRange> Ranges => _ranges;

    public int Count => _ranges.Length;

    /// <summary>One above the highest shard id: shards are never removed (no merges), so this id is unused.</summary>
    public int NextShardId { get; }

    /// <summary>
    /// The range containing <paramref name="hash"/>. Routing a key goes through <see cref="ShardMap.ShardFor(string)"/>,
    /// which carries the replicas too; this is the ring's own view, for split decisions and checks.
    /// </summary>
    public ShardRange RangeFor(ulong hash)
    {
        // Last range whose start <= hash; the first range starts at 0, so one always exists.
        int lo = 0, hi = _ranges.Length - 1;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo + 1) >> 1);
            if (_ranges[mid].Start <= hash)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return _ranges[lo];
    }

    public ShardRange GetRange(int shardId)
    {
        foreach (var r in _ranges)
        {
            if (r.ShardId == shardId)
            {
                return r;
            }
        }

        throw new KeyNotFoundException($"shard {shardId} is not on the ring");
    }

    /// <summary>
    /// Splits shard <paramref name="shardId"/> at <paramref name="splitAt"/>: it keeps [Start, splitAt − 1] and
    /// <paramref name="newShardId"/> takes [splitAt, End]. Every other range is unchanged, so only keys of the
    /// split shard move (and only those hashing at or above the split point).
    /// </summary>
    public HashRing Split(int shardId, ulong splitAt, int newShardId)
    {
        var range = GetRange(shardId);
        if (splitAt <= range.Start || splitAt > range.End)
        {
            throw new ArgumentOutOfRangeException(nameof(splitAt), $"split point {splitAt:x16} must be in ({range.Start:x16}, {range.End:x16}] of {range}");
        }

        if (_ranges.Any(r => r.ShardId == newShardId))
        {
            throw new ArgumentException($"shard id {newShardId} is already on the ring", nameof(newShardId));
        }

        var ranges = _ranges.Where(r => r.ShardId != shardId).ToList();
        ranges.Add(new ShardRange(shardId, range.Start, splitAt - 1));
        ranges.Add(new ShardRange(newShardId, splitAt, range.End));
        return new HashRing(ranges);
    }

    /// <summary>Splits at <paramref name="splitAt"/> with the next unused shard id as the new shard.</summary>
    public HashRing Split(int shardId, ulong splitAt) => Split(shardId, splitAt, NextShardId);
}
