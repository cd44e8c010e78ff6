using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Storage.Directory;
using Storage.Routing;
using Storage.Shards;
using Storage.StateMachine;
using Storage.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Cluster.Tests;

/// <summary>One cluster for the split tests; each test splits shards it picks from the current map.</summary>
public sealed class SplitClusterFixture : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();

    public StorageCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        Cluster = await StorageCluster.StartAsync(
            await _postgres.CreateDatabaseAsync("split"),
            settings: new Dictionary<string, string?>
            {
                ["Storage:Directory:InitialShards"] = "2",
                ["Storage:Replica:CheckpointEntries"] = "30",

                // Routers learn a new map only when a replica tells them (or a split through them): no keeper refreshes
                // the silos' caches behind the tests' backs, so a router with a stale map is certain, not likely.
                ["Storage:Keeper:Period"] = "00:10:00",
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

public sealed class SplitTests : IClassFixture<SplitClusterFixture>
{
    private readonly StorageCluster _cluster;
    private readonly ITestOutputHelper _output;

    public SplitTests(SplitClusterFixture fixture, ITestOutputHelper output)
    {
        _cluster = fixture.Cluster;
        _output = output;
    }

    private IStore Store => _cluster.Store;

    private IDirectoryGrain Directory => _cluster.Client.GetGrain<IDirectoryGrain>(0);

    [Fact]
    public async Task A_split_under_concurrent_writes_loses_no_acknowledged_write_and_applies_none_twice()
    {
        const int writers = 4, keysPerWriter = 6;
        var map = await _cluster.ShardMapAsync();
        var target = map.Shards[0].ShardId;
        var acknowledged = new ConcurrentDictionary<string, List<string>>();
        var ops = 0;
        using var stop = new CancellationTokenSource();

        async Task WriteAsync(int w)
        {
            var client = Guid.NewGuid();
            long sequence = 0;
            var keys = Enumerable.Range(0, keysPerWriter).Select(j => StorageCluster.KeyInShard(map, target, $"split/w{w}/", j)).ToArray();
            for (var op = 0; !stop.IsCancellationRequested; op++)
            {
                var key = keys[op % keys.Length];
                var current = await Store.GetAsync(key);
                var token = $"{w}.{op}";
                var value = (current.Found ? Encoding.UTF8.GetString(current.Value!) + "|" : "") + token;
                var id = new WriteId(client, ++sequence);
                while (true)
                {
                    try
                    {
                        // CAS on the version read: a write applied twice would fail its second CAS, never append twice.
                        await Store.CompareAndSwapAsync(key, current.Version, Encoding.UTF8.GetBytes(value), id);
                        break;
                    }
                    catch (ShardUnavailableException)
                    {
                        // Outcome unknown: the same WriteId again.
                    }
                }

                acknowledged.AddOrUpdate(key, _ => [token], (_, list) => { lock (list) { list.Add(token); } return list; });
                Interlocked.Increment(ref ops);
            }
        }

        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(() => WriteAsync(w))).ToList();
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref ops) >= 40 ? "" : null));
        var v1 = await Store.SplitAsync(target);
        var split1 = await _cluster.ShardMapAsync();
        var child = split1.Shards.Single(s => s.ParentShard == target && map.FindShard(s.ShardId) is null);
        var at = Volatile.Read(ref ops);
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref ops) >= at + 40 ? "" : null));
        var v2 = await Store.SplitAsync(child.ShardId);
        at = Volatile.Read(ref ops);
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref ops) >= at + 40 ? "" : null));
        stop.Cancel();
        await Task.WhenAll(tasks);

        // The rebalancer may publish maps of its own in between (preferred leaders): versions only grow.
        var final = await _cluster.ShardMapAsync();
        Assert.True(v1 > map.Version && v2 > v1 && final.Version >= v2, $"versions {map.Version} -> {v1} -> {v2} -> {final.Version}");
        Assert.Equal(map.Shards.Count + 2, final.Shards.Count);
        _output.WriteLine($"{ops} writes; shards now {string.Join(", ", final.Shards.Select(s => $"{s.ShardId}<-{s.ParentShard}"))}");

        var moved = 0;
        foreach (var (key, tokens) in acknowledged)
        {
            var read = await Store.GetAsync(key);
            Assert.Equal(string.Join("|", tokens), Encoding.UTF8.GetString(read.Value!));
            var owner = final.ShardFor(key);
            if (owner.ShardId != target)
            {
                moved++;

                // The parent no longer holds it: its leader answers with the newer map version.
                var leader = await LeaderOfAsync(target);
                var wrong = await Assert.ThrowsAsync<WrongShardException>(() => _cluster.Replica(target, leader).Read(key, ReadConsistency.Linearizable, final.Version));
                Assert.True(wrong.MapVersion > map.Version);
            }
        }

        Assert.True(moved > 0, "no written key moved to a new shard");
    }

    [Fact]
    public async Task A_router_with_a_stale_map_is_told_the_newer_version_and_the_write_still_succeeds()
    {
        var wrongShardAnswers = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RouterMetrics.MeterName && instrument.Name == "storage.router.wrong_shard")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref wrongShardAnswers, value));
        listener.Start();

        var before = await _cluster.ShardMapAsync();
        var parent = before.Shards.MaxBy(s => s.RangeEnd - s.RangeStart)!;
        var oldKey = StorageCluster.KeyInShard(before, parent.ShardId, "stale/");

        await Store.PutAsync(oldKey, "x"u8.ToArray(), new WriteId(Guid.NewGuid(), 1));

        // Split through the directory itself: no router hears of it.
        var version = await Directory.Split(parent.ShardId, null);
        var after = await _cluster.ShardMapAsync();
        var child = after.Shards.Single(s => before.FindShard(s.ShardId) is null);
        var movedKey = StorageCluster.KeyInShard(after, child.ShardId, "stale/moved/");
        var keptKey = StorageCluster.KeyInShard(after, parent.ShardId, "stale/kept/");

        // Through the router: its map is stale, it is told, refreshes and routes to the new shard with the same WriteId.
        var id = new WriteId(Guid.NewGuid(), 1);
        var answersBefore = Interlocked.Read(ref wrongShardAnswers);
        var written = await Store.PutAsync(movedKey, "moved"u8.ToArray(), id);
        Assert.True(Interlocked.Read(ref wrongShardAnswers) > answersBefore, "the router never got a WrongShardException");
        Assert.Equal("moved", Encoding.UTF8.GetString((await Store.GetAsync(movedKey)).Value!));
        Assert.Equal(written, await Store.PutAsync(movedKey, "moved"u8.ToArray(), id)); // the retry is answered, not applied again

        // Straight at the parent's leader (asked only now: a status request refreshes a router's map), with the old version: the newer version comes back, nothing is applied.
        var leader = await LeaderOfAsync(parent.ShardId);
        var put = KvCommandCodec.Encode(new PutCommand(new WriteId(Guid.NewGuid(), 1), keptKey, "k"u8.ToArray()));
        var wrong = await Assert.ThrowsAsync<WrongShardException>(() => _cluster.Replica(parent.ShardId, leader).Write(put, before.Version));
        Assert.Equal(version, wrong.MapVersion);
        await Assert.ThrowsAsync<WrongShardException>(() => _cluster.Replica(parent.ShardId, leader).Read(keptKey, ReadConsistency.Linearizable, before.Version));
        Assert.False((await _cluster.Replica(parent.ShardId, leader).Read(keptKey, ReadConsistency.Linearizable, version)).Found);


        // A scan routed by any router now covers both halves.
        var all = new List<string>();
        string? after2 = null;
        do
        {
            var page = await Store.ScanAsync("stale/", after2, 2);
            all.AddRange(page.Items.Select(i => i.Key));
            after2 = page.ContinueAfter;
        }
        while (after2 is not null);

        Assert.Contains(movedKey, all);
        Assert.Contains(oldKey, all);
    }

    [Fact]
    public async Task A_directory_restarted_with_a_pending_split_finishes_it()
    {
        var map = await _cluster.ShardMapAsync();
        var parent = map.Shards.MaxBy(s => s.RangeEnd - s.RangeStart)!;
        var keys = Enumerable.Range(0, 40).Select(i => StorageCluster.KeyInShard(map, parent.ShardId, "pending/", i)).ToList();
        foreach (var key in keys)
        {
            await Store.PutAsync(key, Encoding.UTF8.GetBytes(key), new WriteId(Guid.NewGuid(), 1));
        }

        // What the directory does, done by hand: a pending split ...
        var point = parent.RangeStart + ((parent.RangeEnd - parent.RangeStart) / 2) + 1;
        var target = ShardMapBuilder.Split(map, parent.ShardId, point);
        var child = target.Shards.Single(s => map.FindShard(s.ShardId) is null);
        var command = KvCommandCodec.EncodeSplit(new SplitCommand(
            parent.RangeStart, parent.RangeEnd, point, child.ShardId, target.Version,
            parent.Replicas.Select(r => r.ReplicaId).ToArray(), child.Replicas.Select(r => r.ReplicaId).ToArray()));
        // The parent is asked first and applies it (nobody else knows the command, so this is the first application) ...
        var leader = await LeaderOfAsync(parent.ShardId);
        var applied = await _cluster.Replica(parent.ShardId, leader).ProposeSplit(command);
        Assert.False(applied.AlreadySplit);

        // ... and the directory's persisted state is what it wrote before asking: then the directory goes away.
        var storage = _cluster.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageProviders.Checkpoints);
        var directoryId = Directory.GetGrainId();
        for (var attempt = 0; ; attempt++)
        {
            var state = new GrainState<DirectoryState>(new DirectoryState());
            await storage.ReadStateAsync("directory", directoryId, state);
            state.State!.PendingSplit = new PendingSplit(parent.ShardId, point, command, target, DateTime.UtcNow);
            state.State.Map = state.State.Map! with { NextReplicaId = target.NextReplicaId };
            try
            {
                await storage.WriteStateAsync("directory", directoryId, state);
                break;
            }
            catch (InconsistentStateException) when (attempt < 5)
            {
                // The running directory's rebalancer wrote meanwhile: read again.
            }
        }

        await _cluster.Cluster.DeactivateAsync(Directory);

        // The next split request (or the new activation's first rebalancer pass) finishes the pending one (the parent
        // answers "already split"), then the request splits its own shard.
        var other = map.Shards.First(s => s.ShardId != parent.ShardId);
        var version = await Store.SplitAsync(other.ShardId);

        var published = await _cluster.ShardMapAsync();
        Assert.True(version > target.Version);
        Assert.Equal(child.Replicas.Select(r => r.ReplicaId), published.FindShard(child.ShardId)!.Replicas.Select(r => r.ReplicaId));
        Assert.Equal((child.RangeStart, child.RangeEnd, parent.ShardId), (published.FindShard(child.ShardId)!.RangeStart, published.FindShard(child.ShardId)!.RangeEnd, published.FindShard(child.ShardId)!.ParentShard));
        Assert.Equal(point - 1, published.FindShard(parent.ShardId)!.RangeEnd);
        Assert.Contains(published.Shards, s => s.ParentShard == other.ShardId);
        foreach (var key in keys)
        {
            Assert.Equal(key, Encoding.UTF8.GetString((await Store.GetAsync(key)).Value!));
        }

        Assert.Contains(keys, k => published.ShardFor(k).ShardId == child.ShardId);
    }

    [Fact]
    public async Task Replicas_restarted_after_a_split_reload_their_ranges()
    {
        var map = await _cluster.ShardMapAsync();
        var parent = map.Shards.MaxBy(s => s.RangeEnd - s.RangeStart)!;
        var keys = Enumerable.Range(0, 60).Select(i => StorageCluster.KeyInShard(map, parent.ShardId, "restart/", i)).ToList();
        foreach (var key in keys)
        {
            await Store.PutAsync(key, Encoding.UTF8.GetBytes(key), new WriteId(Guid.NewGuid(), 1));
        }

        var version = await Store.SplitAsync(parent.ShardId);
        var after = await _cluster.ShardMapAsync();
        var child = after.Shards.Single(s => map.FindShard(s.ShardId) is null);
        var moved = keys.First(k => after.ShardFor(k).ShardId == child.ShardId);

        // Enough writes after the split for checkpoints past it in both groups (CheckpointEntries is 30).
        for (var i = 0; i < 40; i++)
        {
            await Store.PutAsync(keys[i % keys.Count], "again"u8.ToArray(), new WriteId(Guid.NewGuid(), 1));
        }

        foreach (var (shard, info) in new[] { (parent.ShardId, after.FindShard(parent.ShardId)!), (child.ShardId, child) })
        {
            var leader = await LeaderOfAsync(shard);
            var follower = info.Replicas.First(r => r.ReplicaId != leader).ReplicaId;
            var replica = _cluster.Replica(shard, follower);
            var was = await replica.GetStatus();
            await _cluster.Cluster.DeactivateAsync(replica);
            var back = await WaitForAsync(async () =>
            {
                var s = await replica.GetStatus();
                return s.Incarnation > was.Incarnation && s.AppliedIndex >= was.AppliedIndex && s.AppliedIndex >= s.CommitIndex ? s : null;
            });
            Assert.Equal(version, back.RangeVersion);
            if (shard == child.ShardId)
            {
                Assert.True((await replica.Read(moved, ReadConsistency.Eventual, version)).Found);
            }
            else
            {
                await Assert.ThrowsAsync<WrongShardException>(() => replica.Read(moved, ReadConsistency.Eventual, version));
            }
        }
    }

    [Fact]
    public async Task Bad_split_requests_are_rejected_and_change_nothing()
    {
        var map = await _cluster.ShardMapAsync();
        var shard = map.Shards[0];

        await Assert.ThrowsAsync<InvalidRequestException>(() => Store.SplitAsync(9999));
        await Assert.ThrowsAsync<InvalidRequestException>(() => Store.SplitAsync(shard.ShardId, shard.RangeStart));
        if (shard.RangeEnd < ulong.MaxValue)
        {
            await Assert.ThrowsAsync<InvalidRequestException>(() => Store.SplitAsync(shard.ShardId, shard.RangeEnd + 1));
        }

        await Assert.ThrowsAsync<InvalidRequestException>(() => Store.SplitAsync(-1));

        // No shard came or went and no range changed (the rebalancer may have changed preferred leaders meanwhile).
        var after = await _cluster.ShardMapAsync();
        Assert.Equal(
            map.Shards.Select(s => (s.ShardId, s.RangeStart, s.RangeEnd)),
            after.Shards.Select(s => (s.ShardId, s.RangeStart, s.RangeEnd)));
    }

    private async Task<long> LeaderOfAsync(int shard) =>
        (await WaitForAsync(async () =>
        {
            var status = await Store.GetStatusAsync();
            var s = status.Shards.SingleOrDefault(x => x.ShardId == shard);
            return s is { LeaderReplica: > 0 } ? s : null;
        })).LeaderReplica;

    private static Task<T> WaitForAsync<T>(Func<Task<T?>> probe)
        where T : class => Eventually.WaitForAsync(probe, 100);
}
