using System.Diagnostics;
using System.Globalization;
using Storage.Client;
using Storage.Directory;
using Xunit;
using Xunit.Abstractions;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// The elastic cluster on real processes, under clients that write and read linearizably through
/// <see cref="StorageClient"/>: silos join with new names and silos leave (SIGTERM: they drain themselves; kill -9:
/// given up after <c>Storage:Directory:GiveUpAfter</c>), and a silo comes back under a new address. The histories must
/// be linearizable, no acknowledged write lost, no operation failed after the client's retries, replicas and leaders
/// evenly spread at the end, and the moves close to the fewest possible. The workload's seed is printed;
/// <c>STORAGE_SCALE_SEED=n</c> replays its choices (the cluster's timing is not replayable).
/// </summary>
public sealed class ScaleOutInTests
{
    private const int Shards = 8;
    private const int ReplicationFactor = 3;
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan ClientPause = TimeSpan.FromMilliseconds(10);
    private readonly ITestOutputHelper _output;

    public ScaleOutInTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task ThreeSilosJoinThenThreeLeaveUnderLoadWithNearMinimalMovesAndAnEvenSpread()
    {
        var seed = Seed();
        using var temp = new TempDirectory("lc-scale");
        await using var cluster = await LocalCluster.StartAsync(Options(temp.Path, giveUpAfter: TimeSpan.FromSeconds(10)), new TestOutputLogger(_output));
        await using var client = await StorageClient.ConnectAsync(ClientOptions(cluster));
        var clock = Stopwatch.StartNew();
        try
        {
            var first = Names(cluster, 0, 1, 2);
            var start = await ConvergeAsync(cluster, client, first, clock, "the first 3 silos");
            var madeAtStart = await MovesMadeAsync(cluster);
            await using var watch = new MapWatch(cluster.Client, start.Map);
            var workload = new ScaleWorkload(client, "scale", keys: 16, clock);
            using var stop = new CancellationTokenSource();
            var load = workload.RunAsync(clients: 4, seed, ClientPause, stop.Token);

            // 1. Scale out: three more silos, one per region, with names the cluster has never seen. The clock for the
            //    move starts once they are ready (starting a process says nothing about the rebalancer).
            var adding = clock.Elapsed;
            foreach (var silo in await cluster.AddSilosAsync(3))
            {
                _output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] added {silo}");
            }

            var outBegan = clock.Elapsed;
            _output.WriteLine($"[{outBegan.TotalSeconds,6:0.0} s] the new silos took {(outBegan - adding).TotalSeconds:0.0} s to be ready");

            var all = Names(cluster, 0, 1, 2, 3, 4, 5);
            var outMinimum = Spread.MinimumMoves(start.Map, all);
            var scaledOut = await ConvergeAsync(cluster, client, all, clock, "6 silos after 3 joined");
            var outMoves = watch.MovesBetween(start.Map.Version, scaledOut.Map.Version);
            var madeOut = await MovesMadeAsync(cluster) - madeAtStart;

            // 2. Scale in: one silo per region leaves, so the rest can still hold a replica of every shard per region.
            //    A crash first (its replicas are re-placed once it is given up), then two graceful stops at once (they drain).
            var inBegan = clock.Elapsed;
            var (crashed, drained) = (cluster.Silo(1), new[] { cluster.Silo(3), cluster.Silo(5) });
            var remaining = Names(cluster, 0, 2, 4);
            var inMinimum = Spread.MinimumMoves(scaledOut.Map, remaining);
            _output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] kill -9 {crashed.Name}; SIGTERM {string.Join(", ", drained.Select(d => d.Name))}");
            cluster.KillSilo(crashed.Index);
            await cluster.StopSilosAsync(drained.Select(d => d.Index));
            _output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] {string.Join(", ", drained.Select(d => $"{d.Name} exited with {d.ExitCode}"))}");
            var scaledIn = await ConvergeAsync(cluster, client, remaining, clock, "3 silos after 3 left");
            var inMoves = watch.MovesBetween(scaledOut.Map.Version, scaledIn.Map.Version);
            var madeIn = await MovesMadeAsync(cluster) - madeAtStart - madeOut;

            await stop.CancelAsync();
            await load;
            var (check, lost) = await workload.VerifyAsync();

            var outP99 = workload.Percentile(99, outBegan, scaledOut.At);
            var inP99 = workload.Percentile(99, inBegan, scaledIn.At);
            var quiet = workload.Percentile(99, scaledIn.At, clock.Elapsed);
            Report("scale out 3 -> 6", outMoves, madeOut, outMinimum, scaledOut.At - outBegan, outP99);
            Report("scale in 6 -> 3 (1 kill -9, 2 SIGTERM)", inMoves, madeIn, inMinimum, scaledIn.At - inBegan, inP99);
            _output.WriteLine($"p99 once converged: {Ms(quiet.Latency)} over {quiet.Count} ops");
            _output.WriteLine($"{workload.Operations} operations ({workload.Ledger.Count} ledger writes), {workload.Failures.Count} failed after the client's retries; "
                + $"map versions {start.Map.Version} -> {scaledIn.Map.Version}, {watch.SkippedVersions} not seen by the watch, {watch.Errors} watch polls failed");
            foreach (var failure in workload.Failures.Take(20))
            {
                _output.WriteLine($"  failed: {failure}");
            }

            Assert.True(check.IsLinearizable, check.Render());
            Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes lost:\n  {string.Join("\n  ", lost.Take(20))}");
            Assert.True(workload.Failures.Count == 0, $"{workload.Failures.Count} operations failed after the client's retries, e.g. {workload.Failures.FirstOrDefault()}");
            Assert.True(workload.Ledger.Count > 0 && workload.Operations > 100, $"the clients hardly ran: {workload.Operations} operations");
            AssertNearMinimal("scale out", outMoves, madeOut, outMinimum);
            AssertNearMinimal("scale in", inMoves, madeIn, inMinimum);
        }
        catch (Exception)
        {
            DumpLogs(cluster);
            throw;
        }
    }

    [Fact]
    public async Task ASiloThatRestartsUnderANewAddressGetsItsReplicasBackWithoutMoves()
    {
        var seed = Seed();
        using var temp = new TempDirectory("lc-readdress");
        // Given up only after a minute: the restart below comes well before, so nothing may move.
        var options = Options(temp.Path, giveUpAfter: TimeSpan.FromSeconds(60), silos: 4);
        await using var cluster = await LocalCluster.StartAsync(options, new TestOutputLogger(_output));
        await using var client = await StorageClient.ConnectAsync(ClientOptions(cluster));
        var clock = Stopwatch.StartNew();
        try
        {
            var silos = Names(cluster, 0, 1, 2, 3);
            var before = await ConvergeAsync(cluster, client, silos, clock, "4 silos");
            var madeBefore = await MovesMadeAsync(cluster);
            await using var watch = new MapWatch(cluster.Client, before.Map);
            var workload = new ScaleWorkload(client, "readdress", keys: 8, clock);
            using var stop = new CancellationTokenSource();
            var load = workload.RunAsync(clients: 3, seed, ClientPause, stop.Token);

            var victim = cluster.Silo(3);
            var oldAddress = (before.Status.Silos.Single(s => s.Name == victim.Name)).Address;
            var held = before.Map.Shards.Sum(s => s.Replicas.Count(r => r.SiloKey == victim.Name));
            var began = clock.Elapsed;
            cluster.KillSilo(victim.Index);
            await Task.Delay(TimeSpan.FromSeconds(3));
            await cluster.RestartSiloElsewhereAsync(victim.Index);
            _output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] {victim.Name} (held {held} replicas) killed and restarted: {oldAddress} -> silo port {victim.SiloPort}, gateway {victim.GatewayPort}");
            var after = await ConvergeAsync(cluster, client, silos, clock, $"4 silos after {victim.Name} came back");

            await stop.CancelAsync();
            await load;
            var (check, lost) = await workload.VerifyAsync();
            var p99 = workload.Percentile(99, began, after.At);
            var moves = watch.MovesBetween(before.Map.Version, long.MaxValue).Concat(MapWatch.Diff(before.Map, after.Map)).Distinct().ToList();
            var made = await MovesMadeAsync(cluster) - madeBefore;
            _output.WriteLine($"back home {(after.At - began).TotalSeconds:0.0} s after the kill; p99 {Ms(p99.Latency)} over {p99.Count} ops; "
                + $"map versions {before.Map.Version} -> {after.Map.Version}; {moves.Count} placement changes, {made} moves made (directory); {workload.Operations} operations, {workload.Failures.Count} failed");
            foreach (var failure in workload.Failures.Take(20))
            {
                _output.WriteLine($"  failed: {failure}");
            }

            var row = after.Status.Silos.Single(s => s.Name == victim.Name);
            Assert.Equal("Active", row.State);
            Assert.EndsWith(string.Create(CultureInfo.InvariantCulture, $":{victim.SiloPort}"), row.Address, StringComparison.Ordinal);
            Assert.NotEqual(oldAddress, row.Address);
            Assert.True(moves.Count == 0, $"a restart under a new address moved replicas:\n  {string.Join("\n  ", moves)}");
            Assert.Equal(0, made);
            Assert.Equal(before.Map.Version, after.Map.Version);
            // Converged means every replica runs where the map puts it: the victim's replicas run on it again.
            Assert.Equal(held, after.Status.Shards.Sum(s => s.Replicas.Count(r => r.Reachable && r.Silo == victim.Name)));
            Assert.True(check.IsLinearizable, check.Render());
            Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes lost:\n  {string.Join("\n  ", lost.Take(20))}");
            Assert.True(workload.Failures.Count == 0, $"{workload.Failures.Count} operations failed after the client's retries, e.g. {workload.Failures.FirstOrDefault()}");
        }
        catch (Exception)
        {
            DumpLogs(cluster);
            throw;
        }
    }

    private static LocalClusterOptions Options(string dataDirectory, TimeSpan giveUpAfter, int silos = 3)
    {
        // Room for every silo this test starts (slots for added silos and restarts elsewhere come after the first ones).
        var options = TestClusters.Options(dataDirectory, TestClusters.FreeBasePort(silos: 10));
        options.Silos = silos;
        options.Settings["Storage:Directory:InitialShards"] = Shards.ToString(CultureInfo.InvariantCulture);
        options.Settings["Storage:Directory:InitialSilos"] = silos.ToString(CultureInfo.InvariantCulture);
        options.Settings["Storage:Directory:GiveUpAfter"] = giveUpAfter.ToString("c", CultureInfo.InvariantCulture);
        return options;
    }

    /// <summary>
    /// The client's timeouts. Orleans does not fail calls in flight through a gateway whose connection dies (a kill -9
    /// of that silo): they wait out the response timeout. So it stays short, just above the routers' retry budget (8 s,
    /// see <see cref="TestClusters"/>), and the retry budget leaves room for such a call and its retries.
    /// </summary>
    private static StorageClientOptions ClientOptions(LocalCluster cluster) => new()
    {
        ConnectionString = cluster.ConnectionString,
        ClusterId = cluster.Options.ClusterId,
        ServiceId = cluster.Options.ServiceId,
        ResponseTimeout = TimeSpan.FromSeconds(10),
        RetryBudget = TimeSpan.FromSeconds(30),
    };

    /// <summary>The silos with these indexes: name → region.</summary>
    private static Dictionary<string, string> Names(LocalCluster cluster, params int[] indexes) =>
        indexes.Select(cluster.Silo).ToDictionary(s => s.Name, s => s.Region, StringComparer.Ordinal);

    private async Task<(ClusterStatus Status, ShardMap Map, TimeSpan At)> ConvergeAsync(
        LocalCluster cluster, StorageClient client, IReadOnlyDictionary<string, string> silos, Stopwatch clock, string what)
    {
        var directory = cluster.Client.GetGrain<IDirectoryGrain>(0);
        var result = await Spread.WaitAsync(
            () => client.GetStatusAsync(),
            () => directory.GetShardMap(),
            silos,
            ReplicationFactor,
            clock,
            ConvergeTimeout);
        _output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] converged on {what} at {result.At.TotalSeconds:0.0} s, map version {result.Map.Version}: replicas/leaders {Spread.Describe(result.Status, silos)}");
        return result;
    }

    /// <summary>The directory's count of moves finished since the map was made (<see cref="PlacementStatus.MovesMade"/>).</summary>
    private static async Task<long> MovesMadeAsync(LocalCluster cluster)
    {
        var directory = cluster.Client.GetGrain<IDirectoryGrain>(0);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await directory.GetPlacement().WaitAsync(TimeSpan.FromSeconds(10))).MovesMade;
            }
            catch (Exception e) when (attempt < 10 && e is OrleansException or TimeoutException or StorageException)
            {
                // The directory's silo may have just left: it comes back on another.
                await Task.Delay(1000);
            }
        }
    }

    private void Report(string phase, IReadOnlyList<string> moves, long made, int minimum, TimeSpan converged, (TimeSpan Latency, int Count) p99)
    {
        var counted = Math.Max(moves.Count, made);
        _output.WriteLine($"{phase}: {counted} moves (minimum {minimum}, ratio {(minimum == 0 ? 0 : (double)counted / minimum):0.00}; "
            + $"{moves.Count} placement changes in the map versions, {made} moves finished by the directory's count), "
            + $"converged {converged.TotalSeconds:0.0} s after the change, p99 {Ms(p99.Latency)} over {p99.Count} ops");
        foreach (var move in moves)
        {
            _output.WriteLine($"  {move}");
        }
    }

    /// <summary>
    /// The moves made are the larger of the two counts: the map's placement changes (a move dropped because its target
    /// left changes the map but never finishes) and the directory's finished moves (a move asked again still counts once).
    /// </summary>
    private static void AssertNearMinimal(string phase, IReadOnlyList<string> moves, long made, int minimum)
    {
        var counted = Math.Max(moves.Count, made);
        Assert.True(minimum > 0, $"{phase}: a minimum of 0 moves means the test moved nothing");
        Assert.True(moves.Count >= minimum, $"{phase}: {moves.Count} placement changes seen, fewer than the minimum {minimum}: the watch missed some");
        Assert.True(counted <= 1.2 * minimum, $"{phase}: {counted} moves ({made} finished), more than 1.2 x the minimum {minimum}:\n  {string.Join("\n  ", moves)}");
    }

    private int Seed()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("STORAGE_SCALE_SEED"), out var s) ? s : Random.Shared.Next();
        _output.WriteLine($"seed {seed} (replay the workload's choices with STORAGE_SCALE_SEED={seed})");
        return seed;
    }

    private static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms");

    private void DumpLogs(LocalCluster cluster)
    {
        foreach (var silo in cluster.Silos)
        {
            _output.WriteLine($"--- last lines of {silo.LogFile}:\n{LocalCluster.Tail(silo.LogFile, 30)}");
        }
    }
}
