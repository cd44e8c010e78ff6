using System.Collections.Concurrent;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Raft.Tests.Simulation;

/// <summary>
/// Seeded random schedules against 3- and 5-voter groups. Replay one seed with
/// <c>STORAGE_RAFT_SEED=n</c>; soak with <c>STORAGE_RAFT_SEEDS=5000</c> (seeds per group size) and/or
/// <c>STORAGE_RAFT_STEPS=20000</c> (chaos steps per phase).
/// </summary>
public sealed class SimulationTests
{
    private readonly ITestOutputHelper _output;

    public SimulationTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void RandomSchedulesKeepEveryInvariantAndStayLive()
    {
        var steps = SimulationBudget.StepsPerPhase;
        var runs = SimulationBudget.Seeds().SelectMany(seed => new[] { (seed, 3), (seed, 5) }).ToList();
        var results = new ConcurrentBag<(int Voters, SimulationResult Result)>();
        Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, run =>
        {
            var options = new SimulationOptions { Voters = run.Item2, ChaosSteps = steps };
            results.Add((run.Item2, Simulator.Run(run.seed, options)));
        });

        var failures = results.Where(r => !r.Result.Passed).OrderBy(r => r.Result.Seed).ToList();
        var totalSteps = results.Sum(r => r.Result.Steps);
        _output.WriteLine(
            $"simulated {totalSteps:N0} steps in {results.Count} runs (seeds {runs.Min(r => r.seed)}..{runs.Max(r => r.seed)}, 3 and 5 voters): " +
            $"{results.Sum(r => r.Result.Acknowledged):N0} acknowledged writes, {results.Sum(r => r.Result.Reads):N0} linearizable reads, " +
            $"{results.Sum(r => r.Result.Crashes):N0} crashes, {results.Sum(r => r.Result.Partitions):N0} partitions, " +
            $"{results.Sum(r => r.Result.ConfChanges):N0} membership changes, {results.Sum(r => r.Result.Snapshots):N0} compactions");
        foreach (var f in failures.Take(5))
        {
            _output.WriteLine($"FAILED ({f.Voters} voters) replay with STORAGE_RAFT_SEED={f.Result.Seed}: {f.Result.Failure}");
        }

        Assert.Empty(failures);
        if (!SimulationBudget.IsOverridden)
        {
            Assert.True(totalSteps >= 1_000_000, $"only {totalSteps} steps simulated");
        }
    }

    [Fact]
    public void QuiescentGroupsKeepEveryInvariantAndStayLive()
    {
        // Idle stretches let groups quiesce; proposals, reads, crashes, partitions and membership changes wake them.
        var steps = SimulationBudget.StepsPerPhase;
        var runs = SimulationBudget.Seeds(defaultCount: 50)
            .SelectMany(seed => new[] { (seed, 3, false), (seed, 5, false), (seed, 3, true) })
            .ToList();
        var results = new ConcurrentBag<(int Voters, bool Lease, SimulationResult Result)>();
        Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, run =>
        {
            var options = new SimulationOptions
            {
                Voters = run.Item2,
                ChaosSteps = steps,
                LeaseReads = run.Item3,
                QuiesceAfterTicks = QuiesceAfterTicksFor(run.seed),
            };
            results.Add((run.Item2, run.Item3, Simulator.Run(run.seed, options)));
        });

        var failures = results.Where(r => !r.Result.Passed).OrderBy(r => r.Result.Seed).ToList();
        _output.WriteLine(
            $"quiescence: {results.Sum(r => r.Result.Steps):N0} steps in {results.Count} runs (seeds {runs.Min(r => r.seed)}..{runs.Max(r => r.seed)}; 3 and 5 voters, and 3 with lease reads): " +
            $"{results.Sum(r => r.Result.Quiesces):N0} quiesce events ({results.Sum(r => r.Result.LeaderQuiesces):N0} by leaders) and {results.Sum(r => r.Result.Wakes):N0} wake events, " +
            $"{results.Sum(r => r.Result.Acknowledged):N0} acknowledged writes, {results.Sum(r => r.Result.Reads):N0} linearizable reads, " +
            $"{results.Sum(r => r.Result.Crashes):N0} crashes, {results.Sum(r => r.Result.Partitions):N0} partitions, " +
            $"{results.Sum(r => r.Result.ConfChanges):N0} membership changes");
        foreach (var f in failures.Take(5))
        {
            _output.WriteLine($"FAILED ({f.Voters} voters, lease={f.Lease}, quiesce after {QuiesceAfterTicksFor(f.Result.Seed)}) replay with STORAGE_RAFT_SEED={f.Result.Seed}: {f.Result.Failure}");
        }

        Assert.Empty(failures);

        // The runs must have quiesced and woken groups, or the checks above saw nothing of quiescence.
        Assert.True(results.Sum(r => r.Result.LeaderQuiesces) > 0, "no leader ever quiesced");
        Assert.True(results.Sum(r => r.Result.Quiesces) > results.Sum(r => r.Result.LeaderQuiesces), "no follower ever quiesced");
        Assert.True(results.Sum(r => r.Result.Wakes) > 0, "no node ever woke");
    }

    /// <summary>Quiescence after 1, 2, 3 or 6 idle ticks, by seed.</summary>
    internal static int QuiesceAfterTicksFor(int seed) => new[] { 1, 2, 3, 6 }[seed % 4];

    [Fact]
    public void LeaseReadsStayLinearizableWhenClocksDoNotDrift()
    {
        var results = SimulationBudget.Seeds(defaultCount: 40)
            .AsParallel()
            .Select(seed => Simulator.Run(seed, new SimulationOptions { Voters = 3, ChaosSteps = SimulationBudget.StepsPerPhase, LeaseReads = true }))
            .ToList();
        var failures = results.Where(r => !r.Passed).ToList();
        _output.WriteLine($"lease mode: {results.Count} runs, {results.Sum(r => r.Steps):N0} steps, {results.Sum(r => r.Reads):N0} reads");
        foreach (var f in failures.Take(5))
        {
            _output.WriteLine($"FAILED replay with STORAGE_RAFT_SEED={f.Seed}: {f.Failure}");
        }

        Assert.Empty(failures);
        Assert.True(results.Sum(r => r.Reads) > 0, "no read completed: the check did not run");
    }
}
