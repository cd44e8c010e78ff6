using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Storage.Directory;
using Xunit;
using Xunit.Abstractions;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// A real crash: kill -9 of one silo process of a 3-process cluster while a client keeps writing and reading.
/// Nothing acknowledged may be lost, every failure must be a typed (retryable) error, and after the silo restarts
/// its replicas must catch up with their leaders.
/// </summary>
public sealed class SiloCrashTests
{
    // The outage lasts at least MinOutage and until every shard has acknowledged writes again, at most MaxOutage.
    // Shards can be without quorum until Orleans declares the dead silo dead (about 10-15 s with its default
    // failure detection), so the test waits that out rather than guessing a fixed time.
    private static readonly TimeSpan MinOutage = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxOutage = TimeSpan.FromSeconds(45);
    private const int WritesPerShard = 5;
    private readonly ITestOutputHelper _output;

    public SiloCrashTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task AcknowledgedWritesSurviveAKilledSiloAndItsReplicasCatchUpAfterItRestarts()
    {
        using var temp = new TempDirectory("lc-crash");
        await using var cluster = await LocalCluster.StartAsync(TestClusters.Options(temp.Path, TestClusters.FreeBasePort()), new TestOutputLogger(_output));
        // The client's own timeout above the router's 8 s retry budget: a stuck call surfaces as the router's typed error.
        using var host = await LocalClusterClient.ConnectAsync(
            cluster.ConnectionString,
            configure: c => c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(20)));
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var store = client.GetGrain<IStore>(0);
            var book = new WriteBook();

            // 1. Everything up: every write must be acknowledged.
            for (var i = 0; i < 40; i++)
            {
                Assert.True(await book.PutAsync(store, $"before/{i}", $"v1-{i}"), $"write of before/{i} failed with every silo up: {book.LastError}");
            }

            // 2. Crash the silo that leads the most shards, so that leaders must move. (The map first: the directory
            //    grain may live on the victim.)
            var map = await client.GetGrain<IDirectoryGrain>(0).GetShardMap() ?? throw new InvalidOperationException("no shard map");
            var status = await cluster.GetStatusAsync();
            var victim = cluster.Silos
                .OrderByDescending(s => status.Shards.Count(sh => sh.Replicas.Any(r => r.ReplicaId == sh.LeaderReplica && r.Silo == s.SiloKey)))
                .First();
            _output.WriteLine($"killing {victim} (leads {status.Shards.Count(sh => sh.Replicas.Any(r => r.ReplicaId == sh.LeaderReplica && r.Silo == victim.SiloKey))} of {status.Shards.Count} shards)");
            cluster.KillSilo(victim.Index);
            Assert.False(victim.IsRunning);

            // 3. While it is down: one writer overwrites the first half of the keys, three write fresh keys and read back
            //    keys nobody else writes. Reads must return exactly the acknowledged version.
            var clock = Stopwatch.StartNew();
            var firstAck = new ConcurrentDictionary<int, TimeSpan>();
            var acksPerShard = new ConcurrentDictionary<int, int>();
            bool OutageOver() => clock.Elapsed >= MaxOutage
                || (clock.Elapsed >= MinOutage && map.Shards.All(sh => acksPerShard.GetValueOrDefault(sh.ShardId) >= WritesPerShard));
            var readsChecked = 0;
            var readFailures = new ConcurrentBag<Exception>();
            async Task Overwriter()
            {
                for (var i = 0; i < 20 && !OutageOver(); i++)
                {
                    await book.PutAsync(store, $"before/{i}", $"v2-{i}");
                }
            }

            async Task FreshWriter(int worker)
            {
                var stable = Enumerable.Range(20, 20).Select(i => $"before/{i}").ToList();
                for (var n = 0; !OutageOver(); n++)
                {
                    var key = $"during/{worker}/{n}";
                    if (await book.PutAsync(store, key, $"d-{worker}-{n}"))
                    {
                        stable.Add(key);
                        var shard = map.ShardFor(key).ShardId;
                        firstAck.TryAdd(shard, clock.Elapsed);
                        acksPerShard.AddOrUpdate(shard, 1, (_, c) => c + 1);
                    }

                    var probe = stable[Random.Shared.Next(stable.Count)];
                    try
                    {
                        var read = await store.GetAsync(probe);
                        var expected = book.Acknowledged[probe];
                        Assert.True(read.Found, $"{probe} (acknowledged at version {expected.Version}) not found while {victim.Name} was down");
                        Assert.Equal(expected.Version, read.Version);
                        Assert.Equal(expected.Value, Encoding.UTF8.GetString(read.Value!));
                        Interlocked.Increment(ref readsChecked);
                    }
                    catch (Exception e) when (WriteBook.IsTyped(e))
                    {
                        readFailures.Add(e);
                    }
                }
            }

            await Task.WhenAll(Overwriter(), FreshWriter(1), FreshWriter(2), FreshWriter(3));
            var duringAcked = book.Acknowledged.Keys.Count(k => k.StartsWith("during/", StringComparison.Ordinal));
            _output.WriteLine(
                $"outage of {clock.Elapsed.TotalSeconds:0.0} s: {duringAcked} fresh keys acknowledged, {book.Unknown.Count} writes failed (outcome unknown), "
                + $"{readsChecked} reads checked, {readFailures.Count} reads failed");
            foreach (var shard in map.Shards)
            {
                _output.WriteLine($"  shard {shard.ShardId}: {acksPerShard.GetValueOrDefault(shard.ShardId)} writes acknowledged, the first {(firstAck.TryGetValue(shard.ShardId, out var t) ? $"{t.TotalSeconds:0.0} s" : "never")} after the kill");
            }

            foreach (var group in book.Errors.Concat(readFailures).GroupBy(e => e.GetType().Name))
            {
                _output.WriteLine($"  {group.Count()} x {group.Key}: {group.First().Message.Split('\n')[0]}");
                var example = group.First().ToString();
                _output.WriteLine($"    for example: {example[..Math.Min(example.Length, 2000)].Replace("\n", "\n      ", StringComparison.Ordinal)}");
            }

            // Every failure was a typed error; and with two of three replicas of every shard up, every shard took writes again.
            Assert.Empty(book.Untyped);
            Assert.All(map.Shards, sh => Assert.True(
                acksPerShard.GetValueOrDefault(sh.ShardId) >= WritesPerShard,
                $"shard {sh.ShardId} acknowledged only {acksPerShard.GetValueOrDefault(sh.ShardId)} writes in the {MaxOutage.TotalSeconds:0} s {victim.Name} was down"));
            Assert.True(readsChecked >= 10, $"only {readsChecked} reads succeeded while one of three silos was down");

            // 4. Restart the same silo (same ports, same name).
            var restartClock = Stopwatch.StartNew();
            await cluster.RestartSiloAsync(victim.Index);
            _output.WriteLine($"{victim.Name} ready again after {restartClock.Elapsed.TotalSeconds:0.0} s (pid {victim.Pid})");
            await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(60));

            // 5. Writes whose outcome was unknown: retrying with the same WriteId is answered, applied at most once.
            foreach (var unknown in book.Unknown.ToList())
            {
                await book.RetryUntilAcknowledgedAsync(store, unknown, TimeSpan.FromSeconds(30));
            }

            // 6. Every acknowledged write is there with its version and value.
            foreach (var (key, expected) in book.Acknowledged)
            {
                var read = await store.GetAsync(key);
                Assert.True(read.Found, $"acknowledged write of {key} (version {expected.Version}) lost");
                Assert.Equal(expected.Version, read.Version);
                Assert.Equal(expected.Value, Encoding.UTF8.GetString(read.Value!));
            }

            // 7. The restarted silo's replicas (those the map places on it) catch up: reachable, and applied == commit
            //    at or beyond what their leader had committed once all the writes above were done.
            map = await client.GetGrain<IDirectoryGrain>(0).GetShardMap() ?? throw new InvalidOperationException("no shard map");
            var home = map.Shards
                .SelectMany(s => s.Replicas.Where(r => r.SiloKey == victim.SiloKey).Select(r => (Shard: s.ShardId, Replica: r.ReplicaId)))
                .ToList();
            Assert.NotEmpty(home);
            var afterWrites = await cluster.GetStatusAsync();
            var target = afterWrites.Shards.ToDictionary(
                s => s.ShardId,
                s => s.Replicas.Single(r => r.ReplicaId == s.LeaderReplica).CommitIndex);
            var catchUp = Stopwatch.StartNew();
            var lagging = "not checked yet";
            while (true)
            {
                var now = await cluster.GetStatusAsync();
                var replicas = home.Select(h => (h.Shard, Status: now.Shards.Single(s => s.ShardId == h.Shard).Replicas.Single(r => r.ReplicaId == h.Replica))).ToList();
                var behind = replicas
                    .Where(r => !r.Status.Reachable || r.Status.AppliedIndex != r.Status.CommitIndex || r.Status.CommitIndex < target[r.Shard])
                    .ToList();
                if (behind.Count == 0)
                {
                    foreach (var (shard, r) in replicas)
                    {
                        _output.WriteLine($"  shard {shard} replica {r.ReplicaId}: {r.Role} on {r.Silo}, commit {r.CommitIndex}, applied {r.AppliedIndex} (leader had {target[shard]})");
                    }

                    break;
                }

                lagging = string.Join("; ", behind.Select(b => $"shard {b.Shard} replica {b.Status.ReplicaId} on {b.Status.Silo}: reachable {b.Status.Reachable}, commit {b.Status.CommitIndex}, applied {b.Status.AppliedIndex}, leader had {target[b.Shard]}"));
                Assert.True(catchUp.Elapsed < TimeSpan.FromSeconds(60), $"replicas of {victim.Name} did not catch up within 60 s: {lagging}");
                await Task.Delay(250);
            }

            _output.WriteLine($"{home.Count} replicas of {victim.Name} caught up {catchUp.Elapsed.TotalSeconds:0.0} s after the checks began");
        }
        catch (Exception)
        {
            foreach (var silo in cluster.Silos)
            {
                _output.WriteLine($"--- last lines of {silo.LogFile}:\n{LocalCluster.Tail(silo.LogFile, 25)}");
            }

            throw;
        }
    }
}
