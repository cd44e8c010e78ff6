using System.Diagnostics;
using System.Text;
using Storage.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Cluster.Tests;

/// <summary>Killing the silo that hosts a shard's leader: writes resume and nothing acknowledged is lost.</summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private readonly ITestOutputHelper _output;
    private StorageCluster _cluster = null!;

    public FailoverTests(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("failover"));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task KillingTheLeadersSiloLosesNoAcknowledgedWriteAndWritesResume()
    {
        var store = _cluster.Store;
        var map = await _cluster.ShardMapAsync();
        var status = await store.GetStatusAsync();
        var shard = status.Shards[0];
        var leader = shard.Replicas.Single(r => r.ReplicaId == shard.LeaderReplica);
        var victim = _cluster.SiloFor(leader.Silo);

        var acknowledged = new Dictionary<string, long>();
        for (var i = 0; i < 30; i++)
        {
            var key = StorageCluster.KeyInShard(map, shard.ShardId, "failover/", i);
            acknowledged[key] = (await store.PutAsync(key, Encoding.UTF8.GetBytes(key), new WriteId(Guid.NewGuid(), 1))).Version;
        }

        _output.WriteLine($"killing silo {leader.Silo}, host of shard {shard.ShardId}'s leader {leader.ReplicaId}");
        var clock = Stopwatch.StartNew();
        await _cluster.Cluster.KillSiloAsync(victim);

        // Writes to that shard resume (the router retries with the same id until a new leader answers).
        var probe = StorageCluster.KeyInShard(map, shard.ShardId, "failover/after/");
        var after = await store.PutAsync(probe, Encoding.UTF8.GetBytes("after"), new WriteId(Guid.NewGuid(), 1));
        _output.WriteLine($"first write after the kill acknowledged in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"writes resumed only after {clock.Elapsed}");

        foreach (var (key, version) in acknowledged)
        {
            var read = await store.GetAsync(key);
            Assert.True(read.Found, $"acknowledged write {key} lost");
            Assert.Equal(version, read.Version);
        }

        Assert.Equal(after.Version, (await store.GetAsync(probe)).Version);

        var newStatus = await _cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(newStatus.Shards.SelectMany(s => s.Replicas), r => r.Silo == leader.Silo);
    }
}
