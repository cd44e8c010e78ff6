using System.IO.Hashing;
using System.Text;
using Storage.Directory;

namespace Storage.Grains.Tests.Directory;

public class KeyHashTests
{
    [Fact]
    public void Hash_is_xxhash64_seed_0_of_utf8_pinned_to_known_values()
    {
        // Reference XXH64 values (seed 0). If these change, every stored key would move to another shard.
        Assert.Equal(0xEF46DB3751D8E999UL, KeyHash.Of(""));
        Assert.Equal(0x44BC2CF5AD770999UL, KeyHash.Of("abc"));
    }

    [Theory]
    [InlineData("k")]
    [InlineData("ключ/😀")]
    [InlineData("\0")]
    public void String_and_utf8_forms_agree(string key)
    {
        ulong expected = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));
        Assert.Equal(expected, KeyHash.Of(key));
        Assert.Equal(expected, KeyHash.OfUtf8(Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public void Long_keys_take_the_heap_path_with_the_same_result()
    {
        // 400 chars × 3 bytes = 1200 bytes: past the stack buffer.
        string key = new('€', 400);
        Assert.Equal(XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key)), KeyHash.Of(key));
        Assert.NotEqual(KeyHash.Of(key), KeyHash.Of(key[..^1]));
    }

    [Fact]
    public void Keys_spread_evenly_over_uniform_shards()
    {
        var ring = HashRing.Uniform(16);
        var counts = new int[16];
        for (int i = 0; i < 160_000; i++)
        {
            counts[ring.RangeFor(KeyHash.Of($"user/{i}")).ShardId]++;
        }

        // Expected 10 000 per shard; a binomial standard deviation is ~97, so ±5% is a loose bound.
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }
}
