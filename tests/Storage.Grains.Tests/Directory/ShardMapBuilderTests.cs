using Storage.Directory;
using static Storage.Grains.Tests.Directory.Topology;

namespace Storage.Grains.Tests.Directory;

public class ShardMapBuilderTests
{
    private static readonly List<SiloInfo> FiveSilos = Silos(5, ThreeRegionsTwoZones);

    [Fact]
    public void Initial_map_has_uniform_ranges_placed_replicas_and_sequential_ids()
    {
        var map = ShardMapBuilder.Build(16, 3, FiveSilos);

        Assert.Equal(1, map.Version);
        Assert.Equal(16, map.Shards.Count);
        var ring = HashRing.Uniform(16);
        Assert.Equal(ring.Ranges.Select(r => (r.ShardId, r.Start, r.End)), map.Shards.Select(s => (s.ShardId, s.RangeStart, s.RangeEnd)));

        // Ids 1..48 in shard order, preferred leader first; 0 is never used (Raft's "nobody").
        Assert.Equal(Enumerable.Range(1, 48).Select(i => (long)i), map.Shards.SelectMany(s => s.Replicas).Select(r => r.ReplicaId));
        Assert.Equal(49, map.NextReplicaId);

        var placed = new PreferenceListPlacement(FiveSilos).Place(Enumerable.Range(0, 16), 3);
        var byKey = FiveSilos.ToDictionary(s => s.SiloKey);
        foreach (var shard in map.Shards)
        {
            Assert.Equal(placed[shard.ShardId].Select(s => s.SiloKey), shard.Replicas.Select(r => r.SiloKey));
            Assert.All(shard.Replicas, r => Assert.Equal((byKey[r.SiloKey].Region, byKey[r.SiloKey].Zone), (r.Region, r.Zone)));
        }

        map.Validate();
    }

    [Fact]
    public void Build_is_deterministic()
    {
        Assert.Equal(ShardMapBuilder.Build(32, 3, FiveSilos), ShardMapBuilder.Build(32, 3, FiveSilos.AsEnumerable().Reverse()));
    }

    [Fact]
    public void Fewer_silos_than_replicas_gives_fewer_replicas()
    {
        var map = ShardMapBuilder.Build(4, 3, Silos(2, Flat));
        Assert.All(map.Shards, s => Assert.Equal(2, s.Replicas.Count));
        Assert.Equal(9, map.NextReplicaId);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardMapBuilder.Build(0, 3, FiveSilos));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardMapBuilder.Build(4, 0, FiveSilos));
        Assert.Throws<InvalidOperationException>(() => ShardMapBuilder.Build(4, 3, []));
    }

    [Fact]
    public void Split_adds_a_colocated_shard_with_fresh_ids_and_changes_nothing_else()
    {
        var map = ShardMapBuilder.Build(8, 3, FiveSilos);
        var parent = map.FindShard(5)!;
        ulong at = new ShardRange(parent.ShardId, parent.RangeStart, parent.RangeEnd).Midpoint;

        var split = ShardMapBuilder.Split(map, 5, at);

        Assert.Equal(2, split.Version);
        Assert.Equal(9, split.Shards.Count);
        var shrunk = split.FindShard(5)!;
        var child = split.FindShard(8)!;
        Assert.Equal((parent.RangeStart, at - 1), (shrunk.RangeStart, shrunk.RangeEnd));
        Assert.Equal((at, parent.RangeEnd), (child.RangeStart, child.RangeEnd));
        Assert.Equal(parent.Replicas, shrunk.Replicas);
        Assert.Equal(parent.Replicas.Select(r => r.SiloKey), child.Replicas.Select(r => r.SiloKey));
        Assert.Equal(new long[] { 25, 26, 27 }, child.Replicas.Select(r => r.ReplicaId));
        Assert.Equal(28, split.NextReplicaId);
        Assert.Equal(5, child.ParentShard);
        Assert.Equal(-1, shrunk.ParentShard);
        Assert.All(map.Shards, s => Assert.Equal(-1, s.ParentShard));
        Assert.Equal(parent.Replicas.Select(r => r.Role), child.Replicas.Select(r => r.Role));
        foreach (var shard in map.Shards.Where(s => s.ShardId != 5))
        {
            Assert.Equal(shard, split.FindShard(shard.ShardId));
        }

        // Routing: only keys of shard 5 at or above the split point change shard.
        for (int i = 0; i < 20_000; i++)
        {
            string key = $"key-{i}";
            int was = map.ShardFor(key).ShardId, now = split.ShardFor(key).ShardId;
            Assert.Equal(was == 5 && KeyHash.Of(key) >= at ? 8 : was, now);
        }
    }

    [Fact]
    public void Repeated_splits_never_reuse_shard_or_replica_ids()
    {
        var map = ShardMapBuilder.Build(2, 3, FiveSilos);
        for (int i = 0; i < 10; i++)
        {
            var widest = map.Shards.MaxBy(s => s.RangeEnd - s.RangeStart)!;
            map = ShardMapBuilder.Split(map, widest.ShardId, new ShardRange(widest.ShardId, widest.RangeStart, widest.RangeEnd).Midpoint);
        }

        Assert.Equal(11, map.Version);
        Assert.Equal(Enumerable.Range(0, 12), map.Shards.Select(s => s.ShardId).Order());
        var ids = map.Shards.SelectMany(s => s.Replicas).Select(r => r.ReplicaId).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.Max() + 1, map.NextReplicaId);
        map.Validate();
    }

    [Fact]
    public void Split_rejects_bad_points_and_unknown_shards()
    {
        var map = ShardMapBuilder.Build(4, 3, FiveSilos);
        var s1 = map.FindShard(1)!;
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardMapBuilder.Split(map, 1, s1.RangeStart));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardMapBuilder.Split(map, 1, s1.RangeEnd + 1));
        Assert.Throws<KeyNotFoundException>(() => ShardMapBuilder.Split(map, 42, 1));
    }
}
