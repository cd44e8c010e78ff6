using HdrHistogram;
using Xunit;

namespace Storage.Bench.Tests;

public sealed class BenchRunnerTests
{
    private static BenchRunner Runner(BenchOptions options, IBenchDriver driver) =>
        new(options, driver) { ErrorBackoff = TimeSpan.Zero, ProgressInterval = TimeSpan.FromMilliseconds(20) };

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
        var driver = new FakeDriver();
        var result = await Runner(Options(BenchWorkload.Write, 5000), driver).RunAsync();

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
        Assert.True(result.Throughput > 0);
        Assert.InRange(result.Throughput / (result.Ops / result.DurationSeconds), 0.99, 1.01);
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
        var driver = new FakeDriver { WriteDelay = TimeSpan.FromMilliseconds(2) };
        var options = Options(BenchWorkload.Write, 0);
        options.Operations = null;
        options.Warmup = TimeSpan.FromMilliseconds(200);
        options.Duration = TimeSpan.FromMilliseconds(500);
        var phases = new List<BenchPhase>();
        var result = await Runner(options, driver).RunAsync(p => phases.Add(p.Phase));

        Assert.InRange(result.DurationSeconds, 0.49, 0.51);
        Assert.True(result.Ops > 0);
        // Warm-up operations ran but were not counted.
        Assert.True(driver.Writes > result.Ops);
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
