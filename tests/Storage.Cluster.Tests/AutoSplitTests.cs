using System.Text;
using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>A cluster whose split thresholds are test-sized: 16 KiB of data, or 10 writes a second for 2 s.</summary>
public sealed class AutoSplitClusterFixture : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();

    public StorageCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        Cluster = await StorageCluster.StartAsync(
            await _postgres.CreateDatabaseAsync("autosplit"),
            settings: new Dictionary<string, string?>
            {
                ["Storage:Directory:InitialShards"] = "2",
                ["Storage:Directory:SplitSizeBytes"] = "16384",
                ["Storage:Directory:SplitWritesPerSecond"] = "10",
                ["Storage:Directory:SplitLoadWindow"] = "00:00:02",
            });
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }
}

public sealed class AutoSplitTests : IClassFixture<AutoSplitClusterFixture>
{
    private readonly StorageCluster _cluster;

    public AutoSplitTests(AutoSplitClusterFixture fixture) => _cluster = fixture.Cluster;

    [Fact]
    public async Task A_shard_that_outgrows_the_size_threshold_is_split_in_two_by_its_keys()
    {
        var map = await _cluster.ShardMapAsync();
        var shard = map.Shards[0].ShardId;

        // About 24 KiB in 24 keys, written in under the load window: over the size threshold, and each half under it.
        var keys = Enumerable.Range(0, 24).Select(i => StorageCluster.KeyInShard(map, shard, "big/", i)).ToList();
        foreach (var key in keys)
        {
            await _cluster.Store.PutAsync(key, Encoding.UTF8.GetBytes(key + new string('x', 1000)), new WriteId(Guid.NewGuid(), 1));
        }

        var split = await WaitForChildOfAsync(shard);
        var moved = keys.Count(k => split.ShardFor(k).ShardId != shard);
        Assert.InRange(moved, 6, 18); // split by key count: about half, not a split of the hash range
        foreach (var key in keys)
        {
            Assert.StartsWith(key, Encoding.UTF8.GetString((await _cluster.Store.GetAsync(key)).Value!));
        }
    }

    [Fact]
    public async Task A_shard_under_sustained_write_load_is_split_by_its_recent_writes()
    {
        var map = await _cluster.ShardMapAsync();
        var shard = map.Shards[^1].ShardId;
        var keys = Enumerable.Range(0, 8).Select(i => StorageCluster.KeyInShard(map, shard, "hot/", i)).ToList();
        var client = Guid.NewGuid();
        long sequence = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        ShardMap? split = null;
        while (split is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no split within 60 s of sustained writes");
            for (var i = 0; i < 20; i++)
            {
                var n = ++sequence;
                await _cluster.Store.PutAsync(keys[(int)(n % keys.Count)], Encoding.UTF8.GetBytes($"{n}"), new WriteId(client, n));
            }

            var now = await _cluster.ShardMapAsync();
            split = now.Shards.Any(s => s.ParentShard == shard) ? now : null;
        }

        // Small values: the size threshold did not do it. Every key still reads its last write.
        Assert.Contains(keys, k => split.ShardFor(k).ShardId != shard);
        for (var i = 0; i < keys.Count; i++)
        {
            var last = Enumerable.Range(0, (int)sequence + 1).Last(n => n > 0 && n % keys.Count == i);
            Assert.Equal($"{last}", Encoding.UTF8.GetString((await _cluster.Store.GetAsync(keys[i])).Value!));
        }
    }

    private async Task<ShardMap> WaitForChildOfAsync(int parent)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var map = await _cluster.ShardMapAsync();
            if (map.Shards.Any(s => s.ParentShard == parent))
            {
                return map;
            }

            Assert.True(DateTime.UtcNow < deadline, $"shard {parent} was not split within 60 s");
            await Task.Delay(200);
        }
    }
}
