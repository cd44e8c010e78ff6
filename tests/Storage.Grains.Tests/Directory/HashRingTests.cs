using Storage.Directory;

namespace Storage.Grains.Tests.Directory;

public class HashRingTests
{
    private static readonly UInt128 Space = (UInt128)ulong.MaxValue + 1;

    [Fact]
    public void Single_shard_covers_everything()
    {
        var ring = HashRing.Uniform(1);
        var r = Assert.Single(ring.Ranges);
        Assert.Equal((0, 0UL, ulong.MaxValue), (r.ShardId, r.Start, r.End));
        Assert.Equal(Space, r.Width);
        Assert.Equal(0, ring.RangeFor(0).ShardId);
        Assert.Equal(0, ring.RangeFor(ulong.MaxValue).ShardId);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    public void Uniform_ranges_are_contiguous_cover_the_space_and_differ_by_at_most_one(int n)
    {
        var ring = HashRing.Uniform(n);
        Assert.Equal(n, ring.Count);
        Assert.Equal(Enumerable.Range(0, n), ring.Ranges.Select(r => r.ShardId));
        Assert.Equal(0UL, ring.Ranges[0].Start);
        Assert.Equal(ulong.MaxValue, ring.Ranges[^1].End);
        for (int i = 1; i < n; i++)
        {
            Assert.Equal(ring.Ranges[i - 1].End + 1, ring.Ranges[i].Start);
        }

        var widths = ring.Ranges.Select(r => r.Width).ToArray();
        Assert.Equal(Space, widths.Aggregate(UInt128.Zero, (a, b) => a + b));
        Assert.True(widths.Max() - widths.Min() <= 1);
        Assert.Equal(n, ring.NextShardId);
    }

    [Fact]
    public void Boundaries_map_to_the_right_shard()
    {
        var ring = HashRing.Uniform(5);
        for (int i = 0; i < ring.Count; i++)
        {
            var r = ring.Ranges[i];
            Assert.Equal(r.ShardId, ring.RangeFor(r.Start).ShardId);
            Assert.Equal(r.ShardId, ring.RangeFor(r.End).ShardId);
            if (i > 0)
            {
                Assert.Equal(ring.Ranges[i - 1].ShardId, ring.RangeFor(r.Start - 1).ShardId);
            }
        }
    }

    [Fact]
    public void Binary_search_agrees_with_a_linear_scan()
    {
        var ring = HashRing.Uniform(37).Split(5, HashRing.Uniform(37).Ranges[5].Midpoint).Split(0, 12345);
        var rng = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            ulong h = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 33);
            Assert.Equal(ring.Ranges.Single(r => r.Contains(h)).ShardId, ring.RangeFor(h).ShardId);
        }
    }

    [Fact]
    public void Split_moves_only_the_split_shards_upper_keys_to_the_new_shard()
    {
        var before = HashRing.Uniform(8);
        var target = before.GetRange(3);
        var after = before.Split(3, target.Midpoint);

        Assert.Equal(9, after.Count);
        Assert.Equal(9, after.NextShardId);
        var lower = after.GetRange(3);
        var upper = after.GetRange(8);
        Assert.Equal((target.Start, target.Midpoint - 1), (lower.Start, lower.End));
        Assert.Equal((target.Midpoint, target.End), (upper.Start, upper.End));
        Assert.True(lower.Width - upper.Width <= 1);

        int moved = 0;
        for (int i = 0; i < 50_000; i++)
        {
            string key = $"k{i}";
            int was = before.RangeFor(KeyHash.Of(key)).ShardId, now = after.RangeFor(KeyHash.Of(key)).ShardId;
            if (was != now)
            {
                moved++;
                Assert.Equal((3, 8), (was, now));
                Assert.True(KeyHash.Of(key) >= target.Midpoint);
            }
        }

        // About half of shard 3's eighth: 50 000 / 16 ≈ 3125.
        Assert.InRange(moved, 2_700, 3_600);
        foreach (var r in before.Ranges.Where(r => r.ShardId != 3))
        {
            Assert.Equal(r, after.GetRange(r.ShardId));
        }
    }

    [Fact]
    public void Split_points_are_checked()
    {
        var ring = HashRing.Uniform(4);
        var r = ring.GetRange(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Split(1, r.Start));       // would leave the lower part empty
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Split(1, r.End + 1));     // belongs to shard 2
        Assert.Throws<ArgumentException>(() => ring.Split(1, r.Midpoint, 2));           // id in use
        Assert.Throws<KeyNotFoundException>(() => ring.Split(9, 1));
        var atEnd = ring.Split(1, r.End);                                               // upper part of one hash
        Assert.Equal(UInt128.One, atEnd.GetRange(4).Width);
        Assert.Throws<InvalidOperationException>(() => atEnd.GetRange(4).Midpoint);
    }

    [Fact]
    public void Constructor_rejects_gaps_overlaps_duplicates_and_short_coverage()
    {
        Assert.Throws<ArgumentException>(() => new HashRing([]));
        Assert.Throws<ArgumentException>(() => new HashRing([new ShardRange(0, 0, 10), new ShardRange(1, 12, ulong.MaxValue)]));
        Assert.Throws<ArgumentException>(() => new HashRing([new ShardRange(0, 0, 10), new ShardRange(1, 10, ulong.MaxValue)]));
        Assert.Throws<ArgumentException>(() => new HashRing([new ShardRange(0, 0, 10), new ShardRange(0, 11, ulong.MaxValue)]));
        Assert.Throws<ArgumentException>(() => new HashRing([new ShardRange(0, 0, 10), new ShardRange(1, 11, 20)]));
        Assert.Throws<ArgumentException>(() => new ShardRange(0, 5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardRange(-1, 0, 4));

        // Order of the input does not matter.
        var ring = new HashRing([new ShardRange(7, 11, ulong.MaxValue), new ShardRange(2, 0, 10)]);
        Assert.Equal(new[] { 2, 7 }, ring.Ranges.Select(r => r.ShardId));
        Assert.Equal(8, ring.NextShardId);
    }
}
