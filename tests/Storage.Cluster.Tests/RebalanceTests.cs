using System.Text;
using Storage.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Cluster.Tests;

/// <summary>
/// The living map, in process: silos that join are filled, a drained silo is emptied and then stops, a silo that stops
/// gracefully drains itself first, a silo that dies is replaced after the grace period — all while clients write;
/// replicas end evenly spread with the fewest moves, and no acknowledged write is lost or fails.
/// </summary>
public sealed class RebalanceTests : IAsyncLifetime
{
    private const int Shards = 8;
    private const int ReplicationFactor = 3;

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Storage:Directory:InitialShards"] = Shards.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Storage:Directory:RebalancePeriod"] = "00:00:00.250",
        ["Storage:Directory:MaxMovesInFlight"] = "3",
        ["Storage:Directory:MoveRetryAfter"] = "00:00:05",
        ["Storage:Keeper:Period"] = "00:00:00.250",
        ["Storage:Keeper:HomeStableFor"] = "00:00:01",
        ["Storage:Drain:OnShutdown"] = "true",
        ["Storage:Drain:Timeout"] = "00:01:00",
        ["Storage:Directory:GiveUpAfter"] = "00:00:05",
    };

    private readonly PostgresFixture _postgres = new();
    private readonly ITestOutputHelper _output;
    private StorageCluster _cluster = null!;

    public RebalanceTests(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("rebalance"), settings: Settings);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task JoiningSilosAreFilledAndADrainedSiloIsEmptiedWhileClientsWrite()
    {
        await using var writers = new Writers(_cluster.Store, clients: 4);

        // Scale out 3 → 6: every replica that must change silo to reach an even spread is one move; no more.
        var before = await Directory.GetPlacement();
        for (var i = 0; i < 3; i++)
        {
            await _cluster.Cluster.StartAdditionalSiloAsync();
        }

        var grown = await WaitUntilBalancedAsync(6, TimeSpan.FromSeconds(120));
        var joinMoves = grown.MovesMade - before.MovesMade;
        var joinMinimum = Shards * ReplicationFactor / 2; // half of the replicas belong on the new silos
        _output.WriteLine($"scale out 3 -> 6: {joinMoves} moves (minimum {joinMinimum}), map v{before.MapVersion} -> v{grown.MapVersion}, {writers.Acknowledged} writes acknowledged");
        Assert.InRange(joinMoves, joinMinimum, (long)Math.Floor(joinMinimum * 1.2));

        // Scale in by a drain: the silo is emptied while it still runs, then stops with nothing left to hand over.
        var map = await _cluster.ShardMapAsync();
        var victim = map.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.SiloKey).OrderByDescending(g => g.Count()).First().Key;
        var onVictim = map.Shards.Sum(s => s.Replicas.Count(r => r.SiloKey == victim));
        _output.WriteLine($"draining {victim} ({onVictim} replicas; its region keeps one silo, which takes them: one replica per region per shard)");
        await _cluster.Store.DrainAsync(victim);
        var drained = await WaitUntilBalancedAsync(5, TimeSpan.FromSeconds(120), excluded: victim);
        var drainMoves = drained.MovesMade - grown.MovesMade;
        _output.WriteLine($"drain of {victim}: {drainMoves} moves (minimum {onVictim}), {writers.Acknowledged} writes acknowledged");
        Assert.InRange(drainMoves, onVictim, (long)Math.Floor(onVictim * 1.2));
        Assert.Contains(victim, drained.Draining);
        await _cluster.Cluster.StopSiloAsync(_cluster.SiloFor(victim));

        // Scale in by SIGTERM: a silo that stops gracefully drains itself before it leaves. Chosen in a region that
        // keeps another silo, which can take its replicas.
        map = await _cluster.ShardMapAsync();
        var regions = map.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.Region).Where(g => g.Select(r => r.SiloKey).Distinct().Count() == 2).ToList();
        var stopping = regions[0].First().SiloKey;
        var onStopping = map.Shards.Sum(s => s.Replicas.Count(r => r.SiloKey == stopping));
        await _cluster.Cluster.StopSiloAsync(_cluster.SiloFor(stopping));
        map = await _cluster.ShardMapAsync();
        _output.WriteLine($"stopped {stopping} gracefully: it held {onStopping} replicas, {map.Shards.Sum(s => s.Replicas.Count(r => r.SiloKey == stopping))} after its stop, map v{map.Version}");
        Assert.DoesNotContain(map.Shards.SelectMany(s => s.Replicas), r => r.SiloKey == stopping);
        var stopped = await WaitUntilBalancedAsync(4, TimeSpan.FromSeconds(120));

        // A silo that dies: its replicas stand in elsewhere, and after the grace period they are placed for good.
        var dying = regions[1].First().SiloKey;
        var onDying = map.Shards.Sum(s => s.Replicas.Count(r => r.SiloKey == dying));
        await _cluster.Cluster.KillSiloAsync(_cluster.SiloFor(dying));
        var replaced = await WaitUntilBalancedAsync(3, TimeSpan.FromSeconds(120), excluded: dying);
        _output.WriteLine($"killed {dying}: its {onDying} replicas placed elsewhere with {replaced.MovesMade - stopped.MovesMade} moves, given up: {string.Join(",", replaced.GivenUp)}");
        Assert.Contains(dying, replaced.GivenUp);
        Assert.InRange(replaced.MovesMade - stopped.MovesMade, onDying, (long)Math.Floor(onDying * 1.2));

        var failures = await writers.StopAsync();
        Assert.Empty(failures);
        await writers.VerifyAsync(_cluster.Store);
        _output.WriteLine($"{writers.Acknowledged} writes acknowledged and read back; {writers.Retries} transient failures retried with the same WriteId");
    }

    [Fact]
    public async Task ARejectedDrainChangesNothing()
    {
        var before = await Directory.GetPlacement();
        await Assert.ThrowsAsync<InvalidRequestException>(() => _cluster.Store.DrainAsync("no-such-silo"));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _cluster.Store.DrainAsync(""));
        var after = await Directory.GetPlacement();
        Assert.Empty(after.Draining);
        Assert.Equal(before.MapVersion, after.MapVersion);
    }

    private Storage.Directory.IDirectoryGrain Directory => _cluster.Client.GetGrain<Storage.Directory.IDirectoryGrain>(0);

    /// <summary>
    /// Waits until no move is in flight, every replica runs where the map puts it, every shard has one replica in each
    /// region (the test cluster puts silos in three regions, round robin), the silos of each region share that region's
    /// replicas evenly (within one), preferred leaders are spread within one of an even share, and
    /// <paramref name="excluded"/> holds nothing.
    /// </summary>
    private async Task<PlacementStatus> WaitUntilBalancedAsync(int silos, TimeSpan timeout, string? excluded = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (true)
        {
            var placement = await Directory.GetPlacement();
            var map = await _cluster.ShardMapAsync();
            var status = await _cluster.Store.GetStatusAsync();
            var perSilo = map.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.SiloKey).ToDictionary(g => g.Key, g => g.Count());
            var leaders = map.Shards.GroupBy(s => s.Replicas[0].SiloKey).ToDictionary(g => g.Key, g => g.Count());
            var regionOf = map.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.SiloKey).ToDictionary(g => g.Key, g => g.First().Region);
            var diverse = map.Shards.All(s => s.Replicas.Select(r => r.Region).Distinct().Count() == s.Replicas.Count);
            var evenReplicas = perSilo.Count == silos && diverse && perSilo.GroupBy(p => regionOf[p.Key]).All(region =>
            {
                var total = region.Sum(p => p.Value);
                var n = region.Count();
                return region.All(p => p.Value >= total / n && p.Value <= (total + n - 1) / n);
            });
            var evenLeaders = leaders.Values.All(n => n <= (Shards + silos - 1) / silos);
            var landed = status.Shards.All(s => s.Replicas.All(r => r.Reachable && map.FindShard(s.ShardId)!.Replicas.Any(m => m.ReplicaId == r.ReplicaId && m.SiloKey == r.Silo)));
            var moves = string.Join(" ", placement.Moves.Select(m => $"{m.ShardId}/{m.ReplicaId}:{m.From}->{m.To}"));
            var now = $"v{map.Version}, {placement.Moves.Count} moves in flight [{moves}], made {placement.MovesMade}, given up [{string.Join(",", placement.GivenUp)}], replicas {string.Join(" ", perSilo.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}, leaders {string.Join(" ", leaders.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}, landed {landed}";
            if (now != last)
            {
                _output.WriteLine($"  {DateTime.UtcNow:HH:mm:ss.f} {now}"); // progress, for a failure's story
                last = now;
            }

            if (placement.Moves.Count == 0 && evenReplicas && evenLeaders && landed && (excluded is null || !perSilo.ContainsKey(excluded)))
            {
                _output.WriteLine($"balanced: {last}");
                return placement;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not balanced within {timeout.TotalSeconds} s: {last}");
            await Task.Delay(500);
        }
    }

    /// <summary>
    /// Clients writing in a loop; each keeps the last acknowledged value of its keys. A transient failure (a gateway
    /// that died, a shard busy while its leader moves) is retried with the same WriteId, as the client library does,
    /// within a retry budget; a write that fails beyond it is a failure of the test.
    /// </summary>
    private sealed class Writers : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _acknowledged = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _failures = new();
        private static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(30);
        private long _count;
        private long _retries;

        public Writers(IStore store, int clients)
        {
            for (var c = 0; c < clients; c++)
            {
                var client = c;
                _loops.Add(Task.Run(async () =>
                {
                    var id = Guid.NewGuid();
                    for (long seq = 1; !_stop.IsCancellationRequested; seq++)
                    {
                        var key = $"rebalance/{client}/{seq % 50}";
                        var value = $"{client}:{seq}";
                        var deadline = DateTime.UtcNow + RetryBudget;
                        while (true)
                        {
                            try
                            {
                                await store.PutAsync(key, Encoding.UTF8.GetBytes(value), new WriteId(id, seq));
                                _acknowledged[key] = value;
                                Interlocked.Increment(ref _count);
                                break;
                            }
                            catch (Exception e) when (TransientErrors.IsTransient(e) && DateTime.UtcNow < deadline)
                            {
                                Interlocked.Increment(ref _retries);
                                await Task.Delay(100);
                            }
                            catch (Exception e)
                            {
                                _failures.Enqueue($"{key}: {e.GetType().Name}: {e.Message}");
                                break;
                            }
                        }
                    }
                }));
            }
        }

        public long Acknowledged => Interlocked.Read(ref _count);

        public long Retries => Interlocked.Read(ref _retries);

        public async Task<IReadOnlyCollection<string>> StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops);
            return _failures.ToArray();
        }

        public async Task VerifyAsync(IStore store)
        {
            foreach (var (key, value) in _acknowledged)
            {
                var read = await store.GetAsync(key);
                Assert.True(read.Found, $"{key} lost");
                Assert.Equal(value, Encoding.UTF8.GetString(read.Value!));
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await StopAsync();
            }
        }
    }
}
