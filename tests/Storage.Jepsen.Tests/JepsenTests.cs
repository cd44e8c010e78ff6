using System.Globalization;
using Storage.Faults;
using Storage.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Jepsen.Tests;

/// <summary>
/// Fault runs against a 3-silo in-process cluster: every history must be linearizable with no lost
/// acknowledged write. CI runs 20 runs; <c>STORAGE_JEPSEN_RUNS=200</c> soaks and prints a table
/// (<c>STORAGE_JEPSEN_OPS</c> sets operations per client, default 180);
/// <c>STORAGE_JEPSEN_SEED=n</c> replays one run's schedule seed.
/// </summary>
public sealed class JepsenTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private readonly PostgresFixture _postgres = new();
    private readonly FaultController _faults = new();
    private StorageCluster _cluster = null!;

    public JepsenTests(ITestOutputHelper output) => _output = output;

    private static int Runs => int.TryParse(Environment.GetEnvironmentVariable("STORAGE_JEPSEN_RUNS"), out var n) && n > 0 ? n : 20;

    private static int OperationsPerClient => int.TryParse(Environment.GetEnvironmentVariable("STORAGE_JEPSEN_OPS"), out var n) && n > 0 ? n : 180;

    private static int? ReplaySeed => int.TryParse(Environment.GetEnvironmentVariable("STORAGE_JEPSEN_SEED"), out var s) ? s : null;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(
            await _postgres.CreateDatabaseAsync("jepsen"),
            settings: new Dictionary<string, string?>
            {
                // Short budgets: an operation caught in a fault ends as "unknown" quickly instead of stalling its client.
                ["Storage:Router:RetryBudget"] = "00:00:02",
                ["Storage:Replica:OperationTimeout"] = "00:00:01.500",
                ["Storage:Replica:CheckpointEntries"] = "200",
            },
            faults: _faults);
    }

    public async Task DisposeAsync()
    {
        _faults.HealAll();
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task EveryFaultRunIsLinearizableAndLosesNoAcknowledgedWrite()
    {
        var seeds = ReplaySeed is { } one ? new[] { one } : Enumerable.Range(1, Runs).ToArray();
        var reports = new List<FaultRunReport>();
        foreach (var seed in seeds)
        {
            var report = await FaultRun.RunAsync(_cluster, _faults, seed, operationsPerClient: OperationsPerClient);
            reports.Add(report);
            _output.WriteLine($"run seed={seed}: {report.Operations} ops ({report.Unknown} unknown), {report.Faults} faults " +
                $"[{string.Join(", ", report.FaultKinds.Select(k => $"{k.Key}={k.Value}"))}], " +
                (report.Passed ? "linearizable" : $"ANOMALY (replay with STORAGE_JEPSEN_SEED={seed})"));
            if (!report.Passed)
            {
                _output.WriteLine(report.Check.Render());
                _output.WriteLine($"lost acknowledged writes: {report.LostWrites}");
                _output.WriteLine(report.Log);
            }
        }

        _output.WriteLine("");
        _output.WriteLine("| runs | operations | unknown | faults injected | anomalies found |");
        _output.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {reports.Count} | {reports.Sum(r => r.Operations)} | {reports.Sum(r => r.Unknown)} | {reports.Sum(r => r.Faults)} | {reports.Count(r => !r.Passed)} |"));

        Assert.All(reports, r => Assert.True(r.Passed, $"seed {r.Seed}: {r.Check.Render()} lost={r.LostWrites}"));
        if (ReplaySeed is null && Environment.GetEnvironmentVariable("STORAGE_JEPSEN_RUNS") is null)
        {
            Assert.True(reports.Count >= 20);
            Assert.True(reports.Sum(r => r.Operations) >= 20_000, $"only {reports.Sum(r => r.Operations)} operations");
            Assert.True(reports.Sum(r => r.Faults) >= 20, "the nemesis hardly injected anything");
        }
    }

    [Fact]
    public async Task TheSuiteCatchesEventualReadsPassedOffAsLinearizable()
    {
        // Teeth: a follower cut off from Raft keeps serving its stale state to "linearizable" readers.
        var status = await _cluster.Store.GetStatusAsync();
        var report = await FaultRun.RunAsync(
            _cluster,
            _faults,
            seed: 4242,
            operationsPerClient: 120,
            nemesis: false,
            readConsistency: ReadConsistency.Eventual,
            duringRun: () =>
            {
                // Raft messages into one silo are lost: its replicas fall behind but still answer reads.
                var stale = status.Shards[0].Replicas.First(r => r.ReplicaId != status.Shards[0].LeaderReplica).Silo;
                foreach (var silo in _cluster.Cluster.Silos.Select(StorageCluster.KeyOf).Where(s => s != stale))
                {
                    _faults.Block(silo, stale, raftOnly: true);
                }
            });

        _output.WriteLine(report.Check.Render());
        Assert.False(report.Check.IsLinearizable, "stale reads went unnoticed: the checker has no teeth");
    }
}
