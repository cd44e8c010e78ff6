using System.Text;
using Storage.Faults;
using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>Injected partitions and pauses (grain-call filters): the majority side carries on, nothing acknowledged is lost.</summary>
public sealed class PartitionTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private readonly FaultController _faults = new();
    private StorageCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("partition"), settings: new Dictionary<string, string?> { ["Storage:Directory:InitialShards"] = "2" }, faults: _faults);
    }

    public async Task DisposeAsync()
    {
        _faults.HealAll();
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task IsolatedLeaderIsReplacedAndRejoinsAfterHealing()
    {
        var store = _cluster.Store;
        var status = await store.GetStatusAsync();
        var shard = status.Shards[0];
        var oldLeader = shard.Replicas.Single(r => r.ReplicaId == shard.LeaderReplica);
        var others = _cluster.Cluster.Silos.Select(StorageCluster.KeyOf).Where(k => k != oldLeader.Silo).ToList();
        var map = await _cluster.ShardMapAsync();
        var key = StorageCluster.KeyInShard(map, shard.ShardId, "part/");
        var before = await store.PutAsync(key, Encoding.UTF8.GetBytes("before"), new WriteId(Guid.NewGuid(), 1));

        // Raft traffic only: the test's client may be connected through the isolated silo's gateway, and
        // a router there must still reach the new leader for the write to be acknowledged.
        _faults.Partition(new[] { oldLeader.Silo }, others, raftOnly: true);
        var during = await store.PutAsync(key, Encoding.UTF8.GetBytes("during"), new WriteId(Guid.NewGuid(), 1));
        Assert.True(during.Version > before.Version);

        _faults.HealAll();
        await _cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var rejoined = await WaitForReplicaAsync(shard.ShardId, oldLeader.ReplicaId, r => r.Role == "Follower" && r.Term > oldLeader.Term && r.AppliedIndex >= during.Version);
        Assert.True(rejoined.Term > oldLeader.Term, $"the old leader is at term {rejoined.Term} as {rejoined.Role}");
        var read = await store.GetAsync(key);
        Assert.Equal(during.Version, read.Version);
        Assert.Equal("during", Encoding.UTF8.GetString(read.Value!));
    }

    [Fact]
    public async Task PausedLeaderIsReplacedAndCatchesUpWhenResumed()
    {
        var store = _cluster.Store;

        // A snapshot in which every shard has a leader: leadership may be moving (balancing) at any other moment.
        var status = await _cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var shard = status.Shards[1];
        var leaderKey = $"{shard.ShardId}/{shard.LeaderReplica}";
        var map = await _cluster.ShardMapAsync();
        var key = StorageCluster.KeyInShard(map, shard.ShardId, "pause/");

        _faults.Pause(leaderKey);
        var write = await store.PutAsync(key, Encoding.UTF8.GetBytes("while paused"), new WriteId(Guid.NewGuid(), 1));
        _faults.Resume(leaderKey);

        var oldTerm = shard.Replicas.Single(r => r.ReplicaId == shard.LeaderReplica).Term;
        var resumed = await WaitForReplicaAsync(shard.ShardId, shard.LeaderReplica, r => r.AppliedIndex >= write.Version && r.Term > oldTerm);
        Assert.True(resumed.AppliedIndex >= write.Version, "the resumed replica did not catch up");
        Assert.True(resumed.Term > oldTerm, "a new leader should have been elected while it was paused");
        Assert.Equal("while paused", Encoding.UTF8.GetString((await _cluster.Replica(shard.ShardId, shard.LeaderReplica).Read(key, ReadConsistency.Eventual, map.Version)).Value!));
    }

    private async Task<ReplicaStatus> WaitForReplicaAsync(int shard, long replica, Func<ReplicaStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            ReplicaStatus status;
            try
            {
                status = await _cluster.Replica(shard, replica).GetStatus();
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
                // A status poll is not what this test is about: one that times out on a busy machine is asked again.
                continue;
            }

            if (condition(status) || DateTime.UtcNow > deadline)
            {
                return status;
            }

            await Task.Delay(100);
        }
    }
}
