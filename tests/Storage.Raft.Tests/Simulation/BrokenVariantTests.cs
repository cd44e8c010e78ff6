using Storage.Raft.Tests.BrokenVariants;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Raft.Tests.Simulation;

/// <summary>
/// The checks have teeth: each deliberately broken variant of the core must be caught by the simulator
/// within the CI budget. A variant that slips through fails the test.
/// </summary>
public sealed class BrokenVariantTests
{
    private static readonly int SeedBudget = int.TryParse(Environment.GetEnvironmentVariable("STORAGE_RAFT_FAULT_SEEDS"), out var n) ? n : 3000;
    private static readonly double Intensity = double.TryParse(Environment.GetEnvironmentVariable("STORAGE_RAFT_FAULT_INTENSITY"), out var x) ? x : 4;
    private readonly ITestOutputHelper _output;

    public BrokenVariantTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(RaftFaults.DoubleVote, "election safety")]
    [InlineData(RaftFaults.CommitOldTermByCount, null)]
    [InlineData(RaftFaults.AckBeforePersist, null)]
    internal void SimulatorCatchesBrokenVariant(RaftFaults fault, string? expectedCheck)
    {
        // Seeds run in parallel batches; the first failing seed (lowest) is reported, so the outcome is deterministic.
        const int batch = 64;
        for (var first = 1; first <= SeedBudget; first += batch)
        {
            var caught = Enumerable.Range(first, Math.Min(batch, SeedBudget - first + 1))
                .SelectMany(seed => new[] { (seed, 3), (seed, 5) })
                .AsParallel()
                .Select(run => (run.Item2, Simulator.Run(run.seed, new SimulationOptions
                {
                    Voters = run.Item2,
                    ChaosSteps = 2500,
                    FaultIntensity = Intensity,
                    Faults = fault,
                })))
                .Where(r => !r.Item2.Passed)
                .OrderBy(r => r.Item2.Seed)
                .ThenBy(r => r.Item1)
                .FirstOrDefault();
            if (caught.Item2 is { } result)
            {
                _output.WriteLine($"{fault} caught with seed {result.Seed} ({caught.Item1} voters) after {result.Steps} steps: {result.Failure}");
                if (expectedCheck is not null)
                {
                    Assert.Contains(expectedCheck, result.Failure);
                }

                return;
            }
        }

        Assert.Fail($"{fault} survived {SeedBudget} seeds: the simulator cannot see it");
    }
}
