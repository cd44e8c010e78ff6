using Storage.Consistency;
using Storage.LocalCluster;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Jepsen.Tests;

/// <summary>
/// Fault runs against the multi-process local cluster: kill -9, SIGSTOP/SIGCONT and a PostgreSQL restart
/// while clients run. <c>STORAGE_JEPSEN_PROCESS_RUNS</c> sets the number of runs (default 3).
/// </summary>
public sealed class ProcessJepsenTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "storage-jepsen-" + Guid.NewGuid().ToString("N")[..10]);
    private LocalCluster.LocalCluster _cluster = null!;
    private ProcessNemesis? _lastNemesis;

    public ProcessJepsenTests(ITestOutputHelper output) => _output = output;

    private static int Runs => int.TryParse(Environment.GetEnvironmentVariable("STORAGE_JEPSEN_PROCESS_RUNS"), out var n) && n > 0 ? n : 3;

    public async Task InitializeAsync()
    {
        var options = new LocalClusterOptions
        {
            DataDirectory = _dataDirectory,
            PostgresPort = Storage.Development.FreePorts.One(),
            DurablePostgres = false,
            ReadyTimeout = TimeSpan.FromSeconds(120),
            Settings =
            {
                ["Storage:Directory:InitialShards"] = "4",
                ["Storage:Router:RetryBudget"] = "00:00:02",
                ["Storage:Replica:OperationTimeout"] = "00:00:01.500",
            },
        };
        options.UseBasePort(Storage.Development.FreePorts.Block());
        _cluster = await LocalCluster.LocalCluster.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        if (_lastNemesis?.RestartedPostgres is { } pg)
        {
            await pg.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is not worth failing for
        }
    }

    [Fact]
    public async Task ProcessFaultRunsAreLinearizableAndLoseNoAcknowledgedWrite()
    {
        var store = _cluster.Client.GetGrain<IStore>(0);
        var totals = (Ops: 0, Unknown: 0, Faults: 0, Anomalies: 0);
        for (var run = 1; run <= Runs; run++)
        {
            var rng = new Random(run);
            var keys = Enumerable.Range(0, 3).Select(i => $"pjepsen/{run}/k{i}").ToArray();
            var history = new HistoryRecorder();
            var workload = new Workload(store, history, keys);
            var log = new System.Text.StringBuilder();
            using var stop = new CancellationTokenSource();
            var nemesis = new ProcessNemesis(_cluster, new Random(rng.Next()), line => log.AppendLine(line));
            _lastNemesis = nemesis;
            var chaos = nemesis.RunAsync(stop.Token);
            await Task.WhenAll(Enumerable.Range(0, 6).Select(c => Task.Run(() => workload.ClientAsync(c, new Random(rng.Next()), 150, CancellationToken.None))));
            await stop.CancelAsync();
            await chaos;

            await _cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(120));
            foreach (var key in keys)
            {
                await workload.GetAsync(6, key);
            }

            var recorded = history.ToHistory();
            var check = LinearizabilityChecker.Check(recorded);
            var unknown = recorded.Count(r => r.Outcome == OperationOutcome.Unknown);
            _output.WriteLine($"process run {run}: {recorded.Count} ops ({unknown} unknown), {nemesis.Injected} faults " +
                $"[{string.Join(", ", nemesis.ByKind.Select(k => $"{k.Key}={k.Value}"))}], {(check.IsLinearizable ? "linearizable" : "ANOMALY")}");
            if (!check.IsLinearizable)
            {
                _output.WriteLine(check.Render());
                _output.WriteLine(log.ToString());
            }

            totals = (totals.Ops + recorded.Count, totals.Unknown + unknown, totals.Faults + nemesis.Injected, totals.Anomalies + (check.IsLinearizable ? 0 : 1));
            Assert.True(check.IsLinearizable, check.Render());
            Assert.True(recorded.Where(r => r.Client == 6).All(r => r.Outcome == OperationOutcome.Ok), "a final read after healing failed");
        }

        _output.WriteLine($"| runs {Runs} | operations {totals.Ops} | unknown {totals.Unknown} | faults {totals.Faults} | anomalies {totals.Anomalies} |");
        Assert.True(totals.Faults >= Runs, "the nemesis hardly injected anything");
    }
}
