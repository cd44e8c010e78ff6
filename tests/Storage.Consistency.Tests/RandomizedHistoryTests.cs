using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>
/// Random histories from a simulation of the store's semantics (see <see cref="HistorySimulator"/>): every
/// one is linearizable by construction and must be accepted; corrupted copies whose corruption is provably
/// illegal must be rejected, with the corrupted operation in the witness. Replay one seed with
/// STORAGE_TEST_SEED.
/// </summary>
public class RandomizedHistoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Simulated_histories_are_accepted_and_provably_corrupted_ones_rejected()
    {
        int unknowns = 0, failed = 0, phantoms = 0, stales = 0;
        long maxSteps = 0;
        var slowest = TimeSpan.Zero;
        foreach (int seed in TestSeeds.Get(fixedCount: 60, freshCount: 20))
        {
            var rng = new Random(seed);
            var options = SimulatorOptions.Random(rng);
            var history = HistorySimulator.Generate(seed, options);
            unknowns += history.Count(r => r.Outcome == OperationOutcome.Unknown);
            failed += history.Count(r => r.Outcome == OperationOutcome.Failed);
            try
            {
                var result = LinearizabilityChecker.Check(history);
                Assert.True(result.IsLinearizable, result.Render());
                maxSteps = Math.Max(maxSteps, result.Keys.Max(k => k.Steps));
                slowest = result.Elapsed > slowest ? result.Elapsed : slowest;

                if (Mutations.PhantomRead(history, rng) is var (phantom, phantomId))
                {
                    var bad = LinearizabilityChecker.Check(phantom);
                    Assert.Equal(CheckOutcome.Illegal, bad.Outcome);
                    var witness = bad.IllegalKeys.Single().Witness!;
                    Assert.True(witness.Mentions(phantomId), witness.Render());
                    phantoms++;
                }

                if (Mutations.StaleRead(history, rng) is var (stale, staleId, _))
                {
                    var bad = LinearizabilityChecker.Check(stale);
                    Assert.Equal(CheckOutcome.Illegal, bad.Outcome);
                    var witness = bad.IllegalKeys.Single().Witness!;
                    Assert.True(witness.Mentions(staleId), witness.Render());
                    stales++;
                }
            }
            catch (Exception e)
            {
                output.WriteLine(history.Render());
                throw new Xunit.Sdk.XunitException(
                    $"randomized check failed with seed {seed} ({options}); replay with {TestSeeds.EnvironmentVariable}={seed}\n{e}");
            }

            output.WriteLine($"seed {seed}: {history.Count} ops, {options} (replay: {TestSeeds.EnvironmentVariable}={seed})");
        }

        output.WriteLine($"unknown outcomes {unknowns}, failed {failed}, phantom reads rejected {phantoms}, stale reads rejected {stales}; max steps/key {maxSteps}, slowest check {slowest.TotalMilliseconds:F1} ms");

        // The generator must actually exercise what it claims to.
        if (Environment.GetEnvironmentVariable(TestSeeds.EnvironmentVariable) is null)
        {
            Assert.True(unknowns > 0 && failed > 0 && phantoms > 10 && stales > 10, $"{unknowns} {failed} {phantoms} {stales}");
        }
    }
}
