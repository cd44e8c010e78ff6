using System.Text;
using Storage.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Cluster.Tests;

/// <summary>
/// The living map, in process: silos that join are filled, a drained silo is emptied and then stops, while clients
/// write; replicas end evenly spread with the fewest moves, and no acknowledged write is lost or fails.
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

        var failures = await writers.StopAsync();
        Assert.Empty(failures);
        await writers.VerifyAsync(_cluster.Store);
        _output.WriteLine($"{writers.Acknowledged} writes acknowledged and read back");
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
            last = $"v{map.Version}, {placement.Moves.Count} moves in flight, replicas {string.Join(" ", perSilo.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}, leaders {string.Join(" ", leaders.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}, landed {landed}";
            if (placement.Moves.Count == 0 && evenReplicas && evenLeaders && landed && (excluded is null || !perSilo.ContainsKey(excluded)))
            {
                _output.WriteLine($"balanced: {last}");
                return placement;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not balanced within {timeout.TotalSeconds} s: {last}");
            await Task.Delay(500);
        }
    }

    /// <summary>Clients writing distinct keys in a loop; each keeps the last acknowledged value of its keys.</summary>
    private sealed class Writers : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _acknowledged = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _failures = new();
        private long _count;

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
                        try
                        {
                            await store.PutAsync(key, Encoding.UTF8.GetBytes(value), new WriteId(id, seq));
                            _acknowledged[key] = value;
                            Interlocked.Increment(ref _count);
                        }
                        catch (Exception e)
                        {
                            _failures.Enqueue($"{key}: {e.GetType().Name}: {e.Message}");
                        }
                    }
                }));
            }
        }

        public long Acknowledged => Interlocked.Read(ref _count);

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
