using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.TestingHost;
using Storage.Persistence;
using Storage.Shards;
using Storage.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Cluster.Tests;

/// <summary>
/// A silo that dies and comes back under its name — at a new address — gets its replicas back, and each stand-in moves a bounded
/// number of times, also while the returning silo cannot host replicas. Moves are counted by incarnations: every
/// activation of a replica takes a new one, so an incarnation that rose by n means n activations.
/// </summary>
public sealed class RelocationTests : IAsyncLifetime
{
    // Activations per replica from "standing in" to "back home": one for the move home, one spare for a re-activation
    // Orleans makes on its own while membership changes. The loop this guards against made one move per keeper pass
    // (35 activations of one replica in 8 s before the fix).
    private const long MovesPerReplica = 2;

    // Tries to move one replica home while its silo refuses activations. With a back-off of 1 s, then 2 s, then 4 s,
    // a replica tries 3 times from its first try to 5 s after the first failure is counted, a 4th only 9 s or more
    // after its first: one spare try for a slow machine. Without back-off it was one try per 200 ms pass.
    private const long MaxTriesWhileRefused = 4;

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Storage:Keeper:Period"] = "00:00:00.200",
        ["Storage:Keeper:HomeStableFor"] = "00:00:01",
        ["Storage:Keeper:RelocationBackoff"] = "00:00:01",
        ["Storage:Keeper:RelocationBackoffMax"] = "00:00:08",
    };

    private readonly PostgresFixture _postgres = new();
    private readonly ITestOutputHelper _output;
    private StorageCluster _cluster = null!;

    // Read by the silo host delegate when the test starts a silo: the name to reuse and whether it may host replicas.
    private (string Name, bool HostsReplicas, RefusingLogStore? Refusing)? _nextSilo;

    public RelocationTests(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("relocation"), settings: Settings);
        _cluster.Cluster.Options.SiloHostConfigurationDelegates.Add((_, host) =>
        {
            if (_nextSilo is not { } next)
            {
                return;
            }

            // PostConfigure runs after the test cluster's own Configure, which names every start anew (and gives it
            // fresh ports: the silo comes back at another address, as a restarted pod does).
            host.Services.PostConfigure<SiloOptions>(o => o.SiloName = next.Name);
            if (next.Refusing is { } refusing)
            {
                // AddStorageServer has run (the cluster's own silo configuration comes first); the last registration wins.
                var store = host.Services.Last(d => d.ServiceType == typeof(IRaftLogStore));
                host.Services.AddSingleton<IRaftLogStore>(sp =>
                {
                    refusing.Attach((IRaftLogStore)store.ImplementationFactory!(sp));
                    return refusing;
                });
            }

            if (!next.HostsReplicas)
            {
                // Active in membership, but its grain manifest lacks the replica grain: placement cannot use it.
                host.Services.PostConfigure<GrainTypeOptions>(o => o.Classes.Remove(typeof(ShardReplicaGrain)));
            }
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task StandInsGoHomeOnceWhenTheirSiloReturns()
    {
        using var relocations = new RelocationCounter();
        var (victim, standing) = await KillASiloAsync();
        var standIns = await StandInCountAsync(victim);

        await StartAtAsync(victim, hostsReplicas: true);
        var home = await WaitUntilHomeAsync(TimeSpan.FromSeconds(90));

        AssertMovesBounded(standing, home, MovesPerReplica);
        _output.WriteLine($"{standIns} stand-ins: {relocations.Started} moves asked for, {relocations.Failed} did not land home");
        Assert.InRange(relocations.Started, 1, standIns * MovesPerReplica);
        Assert.InRange(relocations.Failed, 0, relocations.Started);
    }

    [Fact]
    public async Task StandInsStayWhileTheirSiloCannotHostThemThenGoHome()
    {
        using var relocations = new RelocationCounter();
        var (victim, standing) = await KillASiloAsync();
        var standIns = await StandInCountAsync(victim);

        var unusable = await StartAtAsync(victim, hostsReplicas: false);
        // An observation window, not a deadline: with a 200 ms keeper period this is dozens of passes on every silo,
        // each of which moved a stand-in before (a slower machine makes fewer passes, which can only move less).
        await Task.Delay(TimeSpan.FromSeconds(8));
        var meanwhile = await _cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));

        // No move is asked for (below), but a silo that joins takes over a range of Orleans' grain directory, and a
        // stand-in registered there can be re-activated once while it changes hands (seen in CI: 2 of 12 replicas,
        // once each, with no move asked). What this guards against is a stand-in moved again and again.
        AssertMovesBounded(standing, meanwhile, 1);
        Assert.Equal(0, relocations.Started);

        // Stopping a silo hands its grain directory partition over, which can re-activate a replica or two; count
        // the moves caused by the silo's return from after that.
        await _cluster.Cluster.StopSiloAsync(unusable);
        var beforeReturn = await _cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        await StartAtAsync(victim, hostsReplicas: true);
        var home = await WaitUntilHomeAsync(TimeSpan.FromSeconds(90));

        AssertMovesBounded(beforeReturn, home, MovesPerReplica);
        _output.WriteLine($"{standIns} stand-ins: {relocations.Started} moves asked for, {relocations.Failed} did not land home");
        // A stand-in that restarts for another reason is placed home by the director without being asked to move.
        Assert.InRange(relocations.Started, 0, standIns * MovesPerReplica);
    }

    /// <summary>How many replicas the shard map puts on <paramref name="victim"/>: each stands in elsewhere while it is gone.</summary>
    private async Task<long> StandInCountAsync(InProcessSiloHandle victim) =>
        (await _cluster.ShardMapAsync()).Shards.Sum(s => s.Replicas.Count(r => r.SiloKey == StorageCluster.KeyOf(victim)));

    [Fact]
    public async Task MovesThatDoNotLandHomeBackOffThenTheReplicasGoHome()
    {
        using var relocations = new RelocationCounter();
        var (victim, standing) = await KillASiloAsync();
        var standIns = await StandInCountAsync(victim);

        // Placement offers the returned silo, but no replica can activate there until the test lets it.
        var refusing = new RefusingLogStore();
        await StartAtAsync(victim, hostsReplicas: true, refusing);
        await WaitUntilAsync(() => relocations.Failed >= 1, TimeSpan.FromSeconds(60), "no failed move counted");
        // An observation window, as above: long enough for many keeper passes and several back-off steps.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var started = relocations.Started;
        _output.WriteLine($"while refusing: {started} moves asked for, {relocations.Failed} did not land home");
        Assert.InRange(started, 1, standIns * MaxTriesWhileRefused);
        Assert.InRange(relocations.Failed, 1, started);

        refusing.Refusing = false;
        var home = await WaitUntilHomeAsync(TimeSpan.FromSeconds(90));

        // A failed try may leave the replica re-activated where it stood (a new incarnation), then one move home.
        AssertMovesBounded(standing, home, MaxTriesWhileRefused + 1);
        Assert.InRange(relocations.Started, started, started + (standIns * MovesPerReplica));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} within {timeout.TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    /// <summary>Kills the silo that hosts replica 1 of shard 0 and waits until its replicas stand in elsewhere.</summary>
    private async Task<(InProcessSiloHandle Victim, ClusterStatus Standing)> KillASiloAsync()
    {
        var map = await _cluster.ShardMapAsync();
        var victim = _cluster.SiloFor(map.Shards[0].Replicas[0].SiloKey);
        _output.WriteLine($"killing {StorageCluster.KeyOf(victim)}");
        await _cluster.Cluster.KillSiloAsync(victim);
        var standing = await _cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(standing.Shards.SelectMany(s => s.Replicas), r => r.Silo == StorageCluster.KeyOf(victim));
        return (victim, standing);
    }

    private async Task<InProcessSiloHandle> StartAtAsync(InProcessSiloHandle previous, bool hostsReplicas, RefusingLogStore? refusing = null)
    {
        _nextSilo = (StorageCluster.KeyOf(previous), hostsReplicas, refusing);
        try
        {
            var silo = await _cluster.Cluster.StartAdditionalSiloAsync();
            Assert.Equal(StorageCluster.KeyOf(previous), StorageCluster.KeyOf(silo));
            Assert.NotEqual(previous.SiloAddress.Endpoint, silo.SiloAddress.Endpoint);
            _output.WriteLine($"started {StorageCluster.KeyOf(silo)} again at {silo.SiloAddress.Endpoint} ({(hostsReplicas ? "hosts replicas" : "cannot host replicas")})");
            return silo;
        }
        finally
        {
            _nextSilo = null;
        }
    }

    /// <summary>Waits until every replica answers from the silo the shard map assigns it.</summary>
    private async Task<ClusterStatus> WaitUntilHomeAsync(TimeSpan timeout)
    {
        var map = await _cluster.ShardMapAsync();
        var assigned = map.Shards.SelectMany(s => s.Replicas.Select(r => (s.ShardId, r.ReplicaId, r.SiloKey))).ToHashSet();
        var deadline = DateTime.UtcNow + timeout;
        var seen = new Dictionary<string, string>();
        while (true)
        {
            var status = await _cluster.Store.GetStatusAsync();
            foreach (var shard in status.Shards)
            {
                foreach (var r in shard.Replicas)
                {
                    var where = r.Reachable ? $"{r.Silo} incarnation {r.Incarnation}" : "unreachable";
                    if (seen.TryGetValue($"{shard.ShardId}/{r.ReplicaId}", out var before) && before != where)
                    {
                        _output.WriteLine($"{shard.ShardId}/{r.ReplicaId}: {before} -> {where}");
                    }

                    seen[$"{shard.ShardId}/{r.ReplicaId}"] = where;
                }
            }

            var away = status.Shards.SelectMany(s => s.Replicas.Where(r => !r.Reachable || !assigned.Contains((s.ShardId, r.ReplicaId, r.Silo)))
                .Select(r => $"{s.ShardId}/{r.ReplicaId} on {r.Silo}")).ToList();
            if (away.Count == 0)
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"replicas not home within {timeout.TotalSeconds} s: {string.Join(", ", away)}");
            await Task.Delay(250);
        }
    }

    private void AssertMovesBounded(ClusterStatus before, ClusterStatus after, long bound)
    {
        var earlier = before.Shards.SelectMany(s => s.Replicas.Select(r => ((s.ShardId, r.ReplicaId), r.Incarnation))).ToDictionary();
        var moves = after.Shards
            .SelectMany(s => s.Replicas.Select(r => (Key: $"{s.ShardId}/{r.ReplicaId}", Moves: r.Incarnation - earlier[(s.ShardId, r.ReplicaId)])))
            .ToList();
        _output.WriteLine("activations per replica: " + string.Join(", ", moves.Select(m => $"{m.Key}={m.Moves}")));
        Assert.All(moves, m => Assert.True(m.Moves <= bound, $"replica {m.Key} was activated {m.Moves} times (bound {bound})"));
    }

    /// <summary>Sums the keeper's relocation counters over every silo in this process.</summary>
    private sealed class RelocationCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _started;
        private long _failed;

        public RelocationCounter()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ReplicaMetrics.MeterName && instrument.Name.StartsWith("storage.replica.relocations", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
                Interlocked.Add(ref instrument.Name == "storage.replica.relocations" ? ref _started : ref _failed, value));
            _listener.Start();
        }

        public long Started => Interlocked.Read(ref _started);

        public long Failed => Interlocked.Read(ref _failed);

        public void Dispose() => _listener.Dispose();
    }
}
