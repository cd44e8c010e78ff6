using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Storage.Directory;
using static Storage.Grains.Tests.Directory.Topology;

namespace Storage.Grains.Tests.Directory;

public class ShardMapTests
{
    private static readonly ShardMap Map = ShardMapBuilder.Build(12, 3, Silos(6, ThreeRegionsTwoZones));

    [Fact]
    public void ShardFor_agrees_with_the_ring()
    {
        var ring = HashRing.FromShardMap(Map);
        for (int i = 0; i < 10_000; i++)
        {
            string key = $"order/{i}";
            var shard = Map.ShardFor(key);
            Assert.Equal(ring.RangeFor(KeyHash.Of(key)).ShardId, shard.ShardId);
            Assert.True(shard.Contains(KeyHash.Of(key)));
        }

        Assert.Equal(Map.Shards[0], Map.ShardFor(0UL));
        Assert.Equal(Map.Shards[^1], Map.ShardFor(ulong.MaxValue));
    }

    [Fact]
    public void ShardFor_refuses_to_route_through_a_gap()
    {
        var gap = Map with { Shards = [Map.Shards[0] with { RangeEnd = 100 }, Map.Shards[1] with { RangeStart = 200 }] };
        Assert.Throws<InvalidOperationException>(() => gap.ShardFor(150UL));
        Assert.Throws<InvalidOperationException>(() => gap.Validate());
    }

    [Fact]
    public void Validate_names_each_kind_of_damage()
    {
        Map.Validate();
        var s = Map.Shards;
        var r0 = s[0].Replicas;
        Expect("version", Map with { Version = 0 });
        Expect("no shards", Map with { Shards = [] });
        Expect("does not start", Map with { Shards = [.. s.Skip(1)] });
        Expect("uncovered", Map with { Shards = [.. s.Take(s.Count - 1)] });
        Expect("duplicated", Map with { Shards = [s[0], s[1] with { ShardId = 0 }, .. s.Skip(2)] });
        Expect("no replicas", Map with { Shards = [s[0] with { Replicas = [] }, .. s.Skip(1)] });
        Expect("two replicas on silo", Map with { Shards = [s[0] with { Replicas = [r0[0], r0[1] with { SiloKey = r0[0].SiloKey }] }, .. s.Skip(1)] });
        Expect("replica id", Map with { Shards = [s[0] with { Replicas = [r0[0], r0[1] with { ReplicaId = r0[0].ReplicaId }] }, .. s.Skip(1)] });
        Expect("replica id", Map with { NextReplicaId = 3 });
        Expect("replica id", Map with { Shards = [s[0] with { Replicas = [r0[0] with { ReplicaId = 0 }] }, .. s.Skip(1)] });

        static void Expect(string fragment, ShardMap broken) =>
            Assert.Contains(fragment, Assert.Throws<InvalidOperationException>(broken.Validate).Message);
    }

    [Fact]
    public void Equality_is_by_content()
    {
        var copy = new ShardMap(Map.Version, Map.Shards.Select(s => s with { Replicas = s.Replicas.ToList() }).ToList(), Map.NextReplicaId);
        Assert.Equal(Map, copy);
        Assert.Equal(Map.GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(Map, Map with { Version = 2 });
        var s0 = Map.Shards[0];
        Assert.NotEqual(Map, Map with { Shards = [s0 with { Replicas = [.. s0.Replicas.Skip(1), s0.Replicas[0]] }, .. Map.Shards.Skip(1)] });
    }

    [Fact]
    public void Replica_grain_key_is_shard_slash_replica()
    {
        Assert.Equal("3/17", (Map.Shards[0] with { ShardId = 3 }).ReplicaKey(17));
        Assert.Equal(new ReplicaKey(3, 17), ReplicaKey.Parse((Map.Shards[0] with { ShardId = 3 }).ReplicaKey(17)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("3")]
    [InlineData("/17")]
    [InlineData("3/0")]
    [InlineData("3/-1")]
    [InlineData("a/1")]
    public void Malformed_replica_grain_keys_are_refused(string key)
    {
        Assert.Throws<FormatException>(() => ReplicaKey.Parse(key));
    }

    [Fact]
    public void Contracts_round_trip_through_the_orleans_serializer_and_copier()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var copier = services.GetRequiredService<DeepCopier>();

        var back = serializer.Deserialize<ShardMap>(serializer.SerializeToArray(Map));
        Assert.NotNull(back);
        Assert.Equal(Map, back);
        Assert.Equal(Map.Shards[3].RangeEnd, back.Shards[3].RangeEnd);
        Assert.Equal(Map, copier.Copy(Map));

        var silo = new SiloInfo("silo-9", "eu", "eu-a", 4);
        Assert.Equal(silo, serializer.Deserialize<SiloInfo>(serializer.SerializeToArray(silo)));
    }
}
