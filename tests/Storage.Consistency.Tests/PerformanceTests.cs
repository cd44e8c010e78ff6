using System.Diagnostics;
using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>
/// Histories of the size a cluster test produces — 1,000 operations on 5 keys from 10 concurrent clients,
/// with lost answers and timeouts — must be decided in a bounded number of search steps (deterministic,
/// unlike a stopwatch on a shared machine; well under a second in practice). Timings are printed, not asserted.
/// </summary>
public class PerformanceTests(ITestOutputHelper output)
{
    private static readonly SimulatorOptions Shape = new()
    {
        Operations = 1000,
        Keys = 5,
        Clients = 10,
        UnknownRate = 0.05,
        FailRate = 0.02,
        SharedValueRate = 0.3,
    };

    // The same load on one key: every client contends on it, so the search sees all ten in flight.
    private static readonly SimulatorOptions OneHotKey = Shape with { Keys = 1 };

    [Fact]
    public void Thousand_operation_histories_check_in_well_under_a_second()
    {
        CheckAll(Shape, maxStepsPerKey: 1_000_000);
    }

    /// <summary>A stress beyond the target shape: every client contends on one key.</summary>
    [Fact]
    public void Thousand_operations_on_one_hot_key_are_decided_within_the_step_bound()
    {
        CheckAll(OneHotKey, maxStepsPerKey: 2_000_000);
    }

    private void CheckAll(SimulatorOptions shape, long maxStepsPerKey)
    {
        var times = new List<double>();
        foreach (int seed in TestSeeds.Get(fixedCount: 8, freshCount: 4))
        {
            var history = HistorySimulator.Generate(seed, shape);
            var stopwatch = Stopwatch.StartNew();
            var result = LinearizabilityChecker.Check(history);
            double ms = stopwatch.Elapsed.TotalMilliseconds;
            times.Add(ms);
            output.WriteLine($"seed {seed}: {history.Count} ops ({history.Count(r => r.Outcome == OperationOutcome.Unknown)} unknown), " +
                $"{result.Outcome} in {ms:F1} ms, max steps/key {result.Keys.Max(k => k.Steps)} (replay: {TestSeeds.EnvironmentVariable}={seed})");
            Assert.True(result.IsLinearizable, $"seed {seed}: {result.Render()}");
            Assert.True(result.Keys.Max(k => k.Steps) <= maxStepsPerKey, $"seed {seed}: {result.Keys.Max(k => k.Steps)} steps");
        }

        output.WriteLine($"median {Median(times):F1} ms, max {times.Max():F1} ms");
    }

    /// <summary>Alternates the target shape and the hot key; a corrupted read is found within the step bound.</summary>
    [Fact]
    public void Thousand_operation_histories_with_one_bad_read_are_rejected_quickly()
    {
        var detect = new List<double>();
        var total = new List<double>();
        foreach (int seed in TestSeeds.Get(fixedCount: 6, freshCount: 2))
        {
            var rng = new Random(seed);
            bool hot = seed % 2 == 1;
            var history = HistorySimulator.Generate(seed, hot ? OneHotKey : Shape);
            foreach (var (bad, id) in new[] { Mutations.PhantomRead(history, rng), Mutations.StaleRead(history, rng) is var (h, i, _) ? (h, i) : ((History, int)?)null }
                .Where(m => m is not null).Select(m => m!.Value))
            {
                var quick = LinearizabilityChecker.Check(bad, CheckerOptions.Default with { Minimize = false });
                var full = LinearizabilityChecker.Check(bad);
                var witness = full.IllegalKeys.Single().Witness!;
                output.WriteLine($"seed {seed} #{id} ({(hot ? "one hot key" : "5 keys")}): detected in {quick.Elapsed.TotalMilliseconds:F1} ms, with minimization {full.Elapsed.TotalMilliseconds:F1} ms, " +
                    $"witness {witness.Operations.Count} ops + {witness.PossiblyApplied.Count} possibly applied");
                Assert.Equal(CheckOutcome.Illegal, quick.Outcome);
                Assert.True(witness.Mentions(id), witness.Render());
                Assert.True(quick.IllegalKeys.Single().Steps <= 2_000_000, $"seed {seed}: detection took {quick.IllegalKeys.Single().Steps} steps");
                Assert.True(witness.IsMinimal || witness.Operations.Count + witness.PossiblyApplied.Count <= bad.Count, "the witness is a sub-history");
                detect.Add(quick.Elapsed.TotalMilliseconds);
                total.Add(full.Elapsed.TotalMilliseconds);
            }
        }

        output.WriteLine($"detection median {Median(detect):F1} ms, max {detect.Max():F1} ms; with minimization median {Median(total):F1} ms, max {total.Max():F1} ms");
    }

    private static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
}
