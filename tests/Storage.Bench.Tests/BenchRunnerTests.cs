using HdrHistogram;
using Xunit;

namespace Storage.Bench.Tests;

public sealed class BenchRunnerTests
{
    private static BenchRunner Runner(BenchOptions options, IBenchDriver driver, ManualClock? clock = null) =>
        new(options, driver) { ErrorBackoff = TimeSpan.Zero, ProgressInterval = TimeSpan.FromMilliseconds(20), Clock = clock ?? TimeProvider.System };

    private static BenchOptions Options(BenchWorkload workload, long ops, int concurrency = 8) => new()
    {
        Driver = BenchDriverKind.Store,
        Workload = workload,
        Concurrency = concurrency,
        Operations = ops,
        Warmup = TimeSpan.Zero,
        Keys = 100,
        ValueSize = 16,
        Seed = 42,
    };

    [Fact]
    public async Task Op_count_mode_counts_exactly_the_requested_operations()
    {
        // Every write takes 1 ms of a clock only the writes move: the measured window is about 5 s whatever the machine does.
        var clock = new ManualClock();
        var driver = new FakeDriver { Clock = clock, WriteDelay = TimeSpan.FromMilliseconds(1) };
        var result = await Runner(Options(BenchWorkload.Write, 5000), driver, clock).RunAsync();

        Assert.True(driver.Prepared);
        Assert.Equal(5000, result.Ops + result.Errors);
        Assert.Equal(0, result.Errors);
        Assert.Equal(5000, result.Writes.Count);
        Assert.Equal(0, result.Reads.Count);
        Assert.Equal(5000, result.Latency.Count);
        // Operations already running when the count was reached finish but are not counted: at most one per worker.
        Assert.InRange(driver.Writes, 5000, 5000 + 8);
        Assert.Equal(0, driver.Reads);
        Assert.Equal(0, result.Preloaded);
        Assert.InRange(result.DurationSeconds, 5.0, 5.0 + 0.008);
        Assert.InRange(result.Throughput / (result.Ops / result.DurationSeconds), 0.999, 1.001);
    }

    [Fact]
    public async Task Failures_are_counted_not_thrown_and_kept_out_of_the_latencies()
    {
        var driver = new FakeDriver { FailWrite = n => n % 10 == 0 };
        var result = await Runner(Options(BenchWorkload.Write, 2000, concurrency: 4), driver).RunAsync();

        Assert.Equal(2000, result.Ops + result.Errors);
        Assert.InRange(result.Errors, 150, 250);
        Assert.Equal(result.Ops, result.Latency.Count);
        var kind = Assert.Single(result.ErrorKinds);
        Assert.Equal("InvalidOperationException: injected write failure", kind.Key);
        Assert.Equal(result.Errors, kind.Value);
    }

    [Theory]
    [InlineData(BenchWorkload.A, 0.5)]
    [InlineData(BenchWorkload.B, 0.95)]
    public async Task Mixed_workloads_read_their_share_and_preload_every_key_first(BenchWorkload workload, double readShare)
    {
        var driver = new FakeDriver();
        var result = await Runner(Options(workload, 4000), driver).RunAsync();

        Assert.Equal(100, result.Preloaded);
        Assert.Equal(100, driver.Stored);
        Assert.Equal(4000, result.Reads.Count + result.Writes.Count);
        Assert.InRange(result.Reads.Count / 4000.0, readShare - 0.04, readShare + 0.04);
    }

    [Fact]
    public async Task Read_only_workload_writes_nothing_after_the_preload()
    {
        var driver = new FakeDriver();
        var result = await Runner(Options(BenchWorkload.C, 1000), driver).RunAsync();

        Assert.Equal(100, driver.Writes);
        Assert.Equal(1000, result.Reads.Count);
        Assert.Equal(0, result.Writes.Count);
    }

    [Fact]
    public async Task Duration_mode_measures_the_window_after_the_warm_up_and_reports_progress()
    {
        // A clock only the writes move (2 ms each): the warm-up and the window hold a known amount of work however
        // slow or stalled the machine is. The writes wait, at the start of each phase, until the progress display has
        // shown that phase, so that the reports asserted below are certain to be made.
        var clock = new ManualClock();
        var warmingUpShown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var measuringShown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var warmup = TimeSpan.FromMilliseconds(200);
        var driver = new FakeDriver
        {
            Clock = clock,
            WriteDelay = TimeSpan.FromMilliseconds(2),
            Gate = now => now < (long)warmup.TotalMicroseconds ? warmingUpShown.Task : measuringShown.Task,
        };
        var options = Options(BenchWorkload.Write, 0);
        options.Operations = null;
        options.Warmup = warmup;
        options.Duration = TimeSpan.FromMilliseconds(500);
        var phases = new List<BenchPhase>();
        var result = await Runner(options, driver, clock).RunAsync(p =>
        {
            phases.Add(p.Phase);
            (p.Phase == BenchPhase.WarmingUp ? warmingUpShown : p.Phase == BenchPhase.Measuring ? measuringShown : null)?.TrySetResult();
        });

        Assert.Equal(0.5, result.DurationSeconds);
        // 500 ms of 2 ms writes: 250, give or take the few (at most one per worker) that straddle the window's edges.
        Assert.InRange(result.Ops, 250 - 8, 250 + 8);
        // The ~100 warm-up writes ran but were not counted.
        Assert.InRange(driver.Writes - result.Ops, 100 - 8, 100 + 24);
        Assert.True(result.Writes.P50Ms >= 2, $"p50 {result.Writes.P50Ms} ms below the driver's 2 ms delay");
        Assert.Contains(BenchPhase.WarmingUp, phases);
        Assert.Contains(BenchPhase.Measuring, phases);
        Assert.Equal(BenchPhase.Done, phases[^1]);
    }

    [Fact]
    public async Task Invalid_options_are_rejected_before_the_driver_is_touched()
    {
        var driver = new FakeDriver();
        var options = Options(BenchWorkload.Write, 10);
        options.Concurrency = 0;
        await Assert.ThrowsAsync<ArgumentException>(() => Runner(options, driver).RunAsync());
        Assert.False(driver.Prepared);
    }

    [Fact]
    public void Percentiles_come_from_the_histogram_in_milliseconds()
    {
        var histogram = new LongHistogram(1, 120_000_000, 3);
        for (var ms = 1; ms <= 1000; ms++)
        {
            histogram.RecordValue(ms * 1000L);
        }

        var summary = LatencySummary.FromMicroseconds(histogram);
        Assert.Equal(1000, summary.Count);
        // Three significant digits: each value within 0.1% of the exact one.
        Assert.InRange(summary.P50Ms, 499.5, 500.5);
        Assert.InRange(summary.P90Ms, 899.1, 900.9);
        Assert.InRange(summary.P99Ms, 989, 991);
        Assert.InRange(summary.P999Ms, 998, 1000);
        Assert.InRange(summary.MaxMs, 999, 1001);
        Assert.InRange(summary.MeanMs, 500, 501);
        Assert.Equal(LatencySummary.Empty, LatencySummary.FromMicroseconds(new LongHistogram(1, 1000, 3)));
    }
}
