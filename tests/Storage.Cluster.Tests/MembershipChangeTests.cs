using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Core.Internal;
using Storage.Directory;
using Storage.Faults;
using Storage.Shards;
using Storage.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Cluster.Tests;

/// <summary>
/// Replacing replicas and changing the replication factor through Raft membership changes, on a live cluster with
/// clients writing and reading linearizably: nothing acknowledged is lost, the old replica leaves the map, stops and
/// loses its durable state, the new one is a voter with every key; a directory deactivated between steps finishes the
/// change.
/// </summary>
public sealed class MembershipChangeTests : IAsyncLifetime
{
    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(90);

    private readonly PostgresFixture _postgres = new();
    private readonly FaultController _faults = new();
    private readonly ITestOutputHelper _output;
    private StorageCluster _cluster = null!;

    // The replication factor a new directory activation reads (a changed setting on restarted silos).
    private volatile int _replicationFactor = 3;

    public MembershipChangeTests(ITestOutputHelper output) => _output = output;

    public Task InitializeAsync() => _postgres.InitializeAsync();

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }

    private async Task StartAsync(int silos, FaultController? faults = null)
    {
        _cluster = await StorageCluster.StartAsync(
            await _postgres.CreateDatabaseAsync("membership"),
            silos,
            new Dictionary<string, string?>
            {
                ["Storage:Directory:RebalancePeriod"] = "00:00:00.200",
                ["Storage:Directory:MaxMovesInFlight"] = "8",
                ["Storage:Directory:InitialSilos"] = silos.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Storage:Keeper:Period"] = "00:00:00.300",
                // Leaders truncate their logs often, so a learner catches up from a snapshot, not from the first entry.
                ["Storage:Replica:CheckpointEntries"] = "40",
            },
            faults: faults,
            configureSilo: silo => silo.Services.AddSingleton<IOptions<DirectoryOptions>>(
                sp => new ReplicationFactorOptions(this, sp.GetRequiredService<IOptionsFactory<DirectoryOptions>>())));

        // The first map is made once every silo is active, so the rebalancer has nothing to move before the test acts.
        await WaitUntilNoChangeAsync(restartDirectory: false);
    }

    [Fact]
    public async Task ReplacingAFollowerAndThenTheLeaderUnderLoadLosesNothing()
    {
        await StartAsync(silos: 4, _faults);
        var store = _cluster.Store;
        var map = await _cluster.ShardMapAsync();
        var shard = map.FindShard(0)!;
        var silos = _cluster.Cluster.Silos.Select(StorageCluster.KeyOf).ToList();

        await using var load = Load.Start(store, writers: 4);

        // Enough writes that shard 0's leader checkpointed and truncated its log: a new replica catches up by snapshot.
        await WaitUntilAsync(async () => (await LeaderViewAsync(0)).FirstIndex > 1, "shard 0's leader truncates its log");

        // 1. A follower. Raft messages to the target silo are lost at first, so the learner cannot catch up: the change
        // waits there, for sure, while the directory is deactivated twice; then the rest runs with a deactivation after
        // every map version.
        var leader = await LeaderOfAsync(0);
        var follower = shard.Replicas.First(r => r.ReplicaId != leader);
        var target = silos.Single(s => shard.Replicas.All(r => r.SiloKey != s));
        foreach (var other in silos.Where(s => s != target))
        {
            _faults.Block(other, target, raftOnly: true);
        }

        var first = await store.ReplaceReplicaAsync(0, follower.ReplicaId, target);
        Assert.Equal(first, await store.ReplaceReplicaAsync(0, follower.ReplicaId, target)); // the same request again
        Assert.Contains((await _cluster.ShardMapAsync()).FindShard(0)!.Replicas, r => r.ReplicaId == first && r.SiloKey == target && r.Role == ReplicaRole.Learner);
        Assert.Contains((await DirectoryGrain.GetPlacement()).Moves, m => m.ShardId == 0 && m.Kind == MoveKind.Replace && m.ReplicaId == follower.ReplicaId && m.To == target);
        await WaitUntilAsync(async () => (await LeaderViewAsync(0)).IsLearner(first), "the new replica joins as a learner");
        for (var i = 0; i < 2; i++)
        {
            await RestartDirectoryAsync();
            await Task.Delay(TimeSpan.FromSeconds(1)); // passes of the new activation: a learner that is behind stays a learner
            var waiting = (await _cluster.ShardMapAsync()).FindShard(0)!;
            Assert.Contains(waiting.Replicas, r => r.ReplicaId == first && r.Role == ReplicaRole.Learner);
            Assert.Contains(waiting.Replicas, r => r.ReplicaId == follower.ReplicaId);
            Assert.True((await LeaderViewAsync(0)).IsLearner(first));
        }

        _faults.HealAll();
        var restarts = await WaitUntilNoChangeAsync(restartDirectory: true);
        _output.WriteLine($"replaced follower {follower.ReplicaId} on {follower.SiloKey} with {first} on {target}; directory deactivated {restarts + 2} times");
        await AssertReplacedAsync(follower.ReplicaId, first);

        // 2. The leader (it hands leadership over before it is removed).
        await load.WaitForAcknowledgedAsync(load.Acknowledged.Count + 40);
        map = await _cluster.ShardMapAsync();
        shard = map.FindShard(0)!;
        leader = await LeaderOfAsync(0);
        var leaderInfo = shard.Replicas.Single(r => r.ReplicaId == leader);
        target = silos.Single(s => shard.Replicas.All(r => r.SiloKey != s));
        var second = await store.ReplaceReplicaAsync(0, leader, target);
        await WaitUntilNoChangeAsync(restartDirectory: false);
        _output.WriteLine($"replaced leader {leader} on {leaderInfo.SiloKey} with {second} on {target}");
        await AssertReplacedAsync(leader, second);

        await load.WaitForAcknowledgedAsync(load.Acknowledged.Count + 40);
        await load.StopAsync();
        _output.WriteLine($"{load.Acknowledged.Count} writes acknowledged, {load.Failures.Count} failed: {string.Join("; ", load.Failures.Take(5))}");
        Assert.Empty(load.Violations);
        Assert.Empty(load.Failures);
        await AssertEveryAcknowledgedWriteAsync(load.Acknowledged);

        // The new replicas hold every acknowledged key of the shard, read locally. The leader replaced second may have
        // been the first newcomer (leader balancing can hand it the lead), which is then gone from the map.
        map = await _cluster.ShardMapAsync();
        foreach (var joined in new[] { first, second }.Where(id => map.FindShard(0)!.Replicas.Any(r => r.ReplicaId == id)))
        {
            await WaitUntilAppliedAsync(0, joined);
            foreach (var (key, version) in load.Acknowledged.Where(a => map.ShardFor(a.Key).ShardId == 0))
            {
                var read = await _cluster.Replica(0, joined).Read(key, ReadConsistency.Eventual, map.Version);
                Assert.True(read.Found && read.Version == version, $"replica {joined} has {key} at version {read.Version} (found: {read.Found}), acknowledged at {version}");
            }
        }
    }

    [Fact]
    public async Task TheReplicationFactorGoesFromThreeToFiveAndBackToThree()
    {
        await StartAsync(silos: 5);
        var store = _cluster.Store;
        await using var load = Load.Start(store, writers: 2);
        await load.WaitForAcknowledgedAsync(40);
        var before = await _cluster.ShardMapAsync();
        Assert.All(before.Shards, s => Assert.Equal(3, s.Replicas.Count));

        _replicationFactor = 5;
        await RestartDirectoryAsync();
        await WaitUntilNoChangeAsync(restartDirectory: false, until: m => m.Shards.All(s => s.Replicas.Count(r => r.Role == ReplicaRole.Voter) == 5));
        var grown = await _cluster.ShardMapAsync();
        _output.WriteLine($"RF 5: map version {grown.Version}");
        await AssertGroupsMatchMapAsync(grown, voters: 5);

        _replicationFactor = 3;
        await RestartDirectoryAsync();
        await WaitUntilNoChangeAsync(restartDirectory: false, until: m => m.Shards.All(s => s.Replicas.Count == 3));
        var shrunk = await _cluster.ShardMapAsync();
        _output.WriteLine($"RF 3 again: map version {shrunk.Version}");
        await AssertGroupsMatchMapAsync(shrunk, voters: 3);

        var removed = grown.Shards.SelectMany(s => s.Replicas.Select(r => (s.ShardId, r.ReplicaId)))
            .Where(r => shrunk.FindShard(r.ShardId)!.Replicas.All(x => x.ReplicaId != r.ReplicaId))
            .ToList();
        Assert.Equal(2 * grown.Shards.Count, removed.Count);
        foreach (var (shardId, replica) in removed)
        {
            await AssertRetiredAsync(shardId, replica);
        }

        await load.WaitForAcknowledgedAsync(load.Acknowledged.Count + 20);
        await load.StopAsync();
        _output.WriteLine($"{load.Acknowledged.Count} writes acknowledged, {load.Failures.Count} failed: {string.Join("; ", load.Failures.Take(5))}");
        Assert.Empty(load.Violations);
        Assert.Empty(load.Failures);
        await AssertEveryAcknowledgedWriteAsync(load.Acknowledged);
    }

    private async Task<ReplicaGroupView> LeaderViewAsync(int shardId) =>
        await _cluster.Replica(shardId, await LeaderOfAsync(shardId)).GetMembership();

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + ChangeTimeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(100);
        }
    }

    private IDirectoryGrain DirectoryGrain => _cluster.Client.GetGrain<IDirectoryGrain>(0);

    /// <summary>A new activation of the directory: it has only what it persisted (and reads its options again).</summary>
    private Task RestartDirectoryAsync() => DirectoryGrain.Cast<IGrainManagementExtension>().DeactivateOnIdle().AsTask();

    /// <summary>Waits until no move is in progress (and <paramref name="until"/> holds for the map); returns how often it restarted the directory.</summary>
    private async Task<int> WaitUntilNoChangeAsync(bool restartDirectory, Func<ShardMap, bool>? until = null)
    {
        var clock = Stopwatch.StartNew();
        var restarts = 0;
        long restartedAt = 0;
        for (var pass = 0; ; pass++)
        {
            var placement = await DirectoryGrain.GetPlacement();
            var map = await _cluster.ShardMapAsync();
            if (placement.Moves.Count == 0 && (until is null || until(map)))
            {
                _output.WriteLine($"changes done after {clock.Elapsed.TotalSeconds:0.0} s (map version {map.Version})");
                return restarts;
            }

            if (clock.Elapsed > ChangeTimeout)
            {
                throw new TimeoutException($"changes not done after {ChangeTimeout}: moves {string.Join(", ", placement.Moves)}; map v{map.Version}");
            }

            // Between steps: whenever the map moved on, and now and then while it waits (the learner catching up).
            if (restartDirectory && (map.Version != restartedAt || pass % 4 == 0))
            {
                restartedAt = map.Version;
                await RestartDirectoryAsync();
                restarts++;
            }

            await Task.Delay(150);
        }
    }

    private async Task<long> LeaderOfAsync(int shardId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var status = await _cluster.Store.GetStatusAsync();
            var leader = status.Shards.Single(s => s.ShardId == shardId).LeaderReplica;
            if (leader != 0)
            {
                return leader;
            }

            Assert.True(DateTime.UtcNow < deadline, $"shard {shardId} has no leader");
            await Task.Delay(100);
        }
    }

    private async Task AssertReplacedAsync(long old, long joined)
    {
        var map = await _cluster.ShardMapAsync();
        var shard = map.FindShard(0)!;
        Assert.DoesNotContain(shard.Replicas, r => r.ReplicaId == old);
        var info = Assert.Single(shard.Replicas, r => r.ReplicaId == joined);
        Assert.Equal(ReplicaRole.Voter, info.Role);
        Assert.Equal(3, shard.Replicas.Count);
        await AssertGroupsMatchMapAsync(map, voters: 3);

        // It runs where the map puts it (the rebalancer may have moved it on from the target, which held one replica more).
        await WaitUntilAsync(async () => (await _cluster.Replica(0, joined).GetStatus()).Silo == (await _cluster.ShardMapAsync()).FindShard(0)!.Replicas.Single(r => r.ReplicaId == joined).SiloKey, $"replica {joined} runs on its silo");
        await AssertRetiredAsync(0, old);
    }

    /// <summary>Each shard's leader reports exactly the map's replicas as voters, and no learner.</summary>
    private async Task AssertGroupsMatchMapAsync(ShardMap map, int voters)
    {
        foreach (var shard in map.Shards)
        {
            Assert.Equal(voters, shard.Replicas.Count);
            var leader = await LeaderOfAsync(shard.ShardId);
            var view = await _cluster.Replica(shard.ShardId, leader).GetMembership();
            Assert.Equal(shard.Replicas.Select(r => r.ReplicaId).Order(), view.Voters.Order());
            Assert.Empty(view.Learners);
        }
    }

    /// <summary>A removed replica refuses to run, and its log and hard state are gone.</summary>
    private async Task AssertRetiredAsync(int shardId, long replica)
    {
        await Assert.ThrowsAsync<ReplicaRemovedException>(() => _cluster.Replica(shardId, replica).GetStatus());
        await using var connection = new NpgsqlConnection(_cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM raft_log WHERE replica_id = $1) + (SELECT count(*) FROM raft_hard_state WHERE replica_id = $1)",
            connection)
        {
            Parameters = { new NpgsqlParameter { Value = new ReplicaKey(shardId, replica).ToString() } },
        };
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    private async Task WaitUntilAppliedAsync(int shardId, long replica)
    {
        var leader = await LeaderOfAsync(shardId);
        var commit = (await _cluster.Replica(shardId, leader).GetStatus()).CommitIndex;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await _cluster.Replica(shardId, replica).GetStatus()).AppliedIndex < commit)
        {
            Assert.True(DateTime.UtcNow < deadline, $"replica {replica} did not apply up to {commit}");
            await Task.Delay(100);
        }
    }

    private async Task AssertEveryAcknowledgedWriteAsync(IReadOnlyDictionary<string, long> acknowledged)
    {
        foreach (var (key, version) in acknowledged)
        {
            var read = await _cluster.Store.GetAsync(key);
            Assert.True(read.Found && read.Version == version, $"acknowledged write {key} (version {version}) reads as found={read.Found} version={read.Version}");
        }
    }

    /// <summary>The configured directory options with the test's replication factor, read whenever a directory activation asks.</summary>
    private sealed class ReplicationFactorOptions(MembershipChangeTests test, IOptionsFactory<DirectoryOptions> factory) : IOptions<DirectoryOptions>
    {
        public DirectoryOptions Value
        {
            get
            {
                var options = factory.Create(Options.DefaultName);
                options.ReplicationFactor = test._replicationFactor;
                return options;
            }
        }
    }

    /// <summary>
    /// Writers, each with its own client id, putting fresh keys and reading each back linearizably right after it was
    /// acknowledged (a read that misses it is a violation).
    /// </summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _writers = new();
        private readonly ConcurrentDictionary<string, long> _acknowledged = new();

        public IReadOnlyDictionary<string, long> Acknowledged => _acknowledged;

        public ConcurrentQueue<string> Failures { get; } = new();

        public ConcurrentQueue<string> Violations { get; } = new();

        public static Load Start(IStore store, int writers)
        {
            var load = new Load();
            for (var w = 0; w < writers; w++)
            {
                var writer = w;
                load._writers.Add(Task.Run(() => load.WriteAsync(store, writer)));
            }

            return load;
        }

        private async Task WriteAsync(IStore store, int writer)
        {
            var client = Guid.NewGuid();
            for (long sequence = 1; !_stop.IsCancellationRequested; sequence++)
            {
                var key = $"load/{writer}/{sequence}";
                try
                {
                    var put = await store.PutAsync(key, Encoding.UTF8.GetBytes(key), new WriteId(client, sequence));
                    _acknowledged[key] = put.Version;
                    var read = await store.GetAsync(key);
                    if (!read.Found || read.Version != put.Version)
                    {
                        Violations.Enqueue($"{key}: acknowledged at {put.Version}, then read found={read.Found} version={read.Version}");
                    }
                }
                catch (Exception e)
                {
                    Failures.Enqueue($"{key}: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        public async Task WaitForAcknowledgedAsync(int count)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (_acknowledged.Count < count)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"only {_acknowledged.Count} of {count} writes acknowledged; failures: {string.Join("; ", Failures.Take(5))}");
                }

                await Task.Delay(50);
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_writers);
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
        }
    }
}
