using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>
/// The checker against <see cref="ReferenceChecker"/> on thousands of tiny random histories — most of them
/// nonsense, some legal — with lost writes, CAS, deletes and version collisions. Every pruning in the
/// search and every abstraction in the model must agree with the naive enumeration, both ways.
/// </summary>
public class ReferenceComparisonTests(ITestOutputHelper output)
{
    [Fact]
    public void Agrees_with_brute_force_on_tiny_histories()
    {
        int legal = 0, illegal = 0, witnessesVerified = 0;
        foreach (int seed in TestSeeds.Get(fixedCount: 4, freshCount: 2))
        {
            var rng = new Random(seed);
            for (int i = 0; i < 2000; i++)
            {
                var history = (i % 3) switch
                {
                    0 => RandomTinyHistory(rng),
                    1 => Simulated(rng),
                    _ => Tweak(Simulated(rng), rng),
                };
                bool mono = rng.Next(4) != 0;
                bool expected = ReferenceChecker.IsLinearizable(history, mono);
                var result = LinearizabilityChecker.Check(history, CheckerOptions.Default with { VersionsIncreaseAcrossDeletes = mono, MaxDegreeOfParallelism = 1 });
                if (expected != result.IsLinearizable)
                {
                    output.WriteLine(history.Render());
                    output.WriteLine(result.Render());
                    Assert.Fail($"seed {seed} #{i} (replay: {TestSeeds.EnvironmentVariable}={seed}): reference says {(expected ? "linearizable" : "not linearizable")}, checker {result.Outcome} (versions increase across deletes: {mono})\n{history.Render()}\n{result.Render()}");
                }

                if (expected)
                {
                    legal++;

                    // The relaxed check (lost writes as havoc) is a weakening: it must never reject either.
                    foreach (var key in KeyHistory.Split(history))
                    {
                        var relaxed = Minimizer.CheckRelaxed(key.Ops, mono, new SearchBudget(1_000_000, TimeSpan.FromSeconds(10)));
                        Assert.NotEqual(SearchOutcome.Illegal, relaxed);
                    }
                }
                else
                {
                    illegal++;

                    // The witness is meant to be a self-contained proof: the reference must reject it too.
                    var witness = result.IllegalKeys.Single().Witness!;
                    Assert.NotEmpty(witness.Operations);
                    var alone = new History(witness.Operations.Select(o => o.AnswerIgnored
                        ? o.Record with { Outcome = OperationOutcome.Unknown, Result = null }
                        : o.Record));
                    Assert.False(ReferenceChecker.IsLinearizable(alone, mono, witness.PossiblyApplied), $"witness is linearizable:\n{witness.Render()}");
                    witnessesVerified++;
                }
            }
        }

        output.WriteLine($"{legal} linearizable, {illegal} not (all {witnessesVerified} witnesses re-checked by brute force)");
        Assert.True(legal > 500 && illegal > 500, $"{legal} / {illegal}");
    }

    private static History Simulated(Random rng) => HistorySimulator.Generate(
        rng.Next(),
        new SimulatorOptions { Operations = rng.Next(1, 9), Keys = 1, Clients = rng.Next(1, 5), UnknownRate = 0.3, FailRate = 0.1, SharedValueRate = 0.5 });

    /// <summary>A legal history with one detail changed: borderline cases, legal or not, where pruning mistakes show.</summary>
    private static History Tweak(History history, Random rng)
    {
        if (history.Count == 0)
        {
            return history;
        }

        var r = history[rng.Next(history.Count)];
        var res = r.Result;
        OperationRecord changed = rng.Next(5) switch
        {
            0 => r with { Outcome = OperationOutcome.Unknown, Result = null },
            1 when res is { Kind: ResultKind.Written } => r with { Result = OperationResult.Written(Math.Max(1, res.Version + rng.Next(-2, 3)), res.Existed) },
            2 when res is { Kind: ResultKind.Read, Found: true } => r with { Result = OperationResult.Read(true, res.Value, Math.Max(1, res.Version + rng.Next(-2, 3))) },
            3 when res is { Kind: ResultKind.Deleted } => r with { Result = OperationResult.Deleted(!res.Existed!.Value) },
            4 when res is { Kind: ResultKind.Conflict } => r with { Result = OperationResult.Conflict(Math.Max(0, res.Version + rng.Next(-2, 3))) },
            _ => r with { InvokeTime = Math.Max(0, r.InvokeTime - rng.Next(0, 4)) },
        };
        return history.Replace(changed);
    }

    /// <summary>Random operations with random (mostly inconsistent) answers over a tiny domain, so collisions are common.</summary>
    private static History RandomTinyHistory(Random rng)
    {
        var b = new HistoryBuilder();
        int n = rng.Next(1, 8);
        string[] values = ["a", "b"];
        for (int i = 0; i < n; i++)
        {
            long invoke = rng.Next(0, 10);
            long complete = invoke + rng.Next(0, 5);
            var op = rng.Next(4) switch
            {
                0 => Operation.Put("k", values[rng.Next(2)]),
                1 => Operation.Delete("k"),
                2 => Operation.Cas("k", rng.Next(0, 5), values[rng.Next(2)]),
                _ => Operation.Get("k"),
            };
            int outcome = rng.Next(10);
            if (outcome < 2)
            {
                b.Unknown(i, op, invoke, rng.Next(2) == 0 ? complete : null);
                continue;
            }

            if (outcome < 3)
            {
                b.Failed(i, op, invoke, complete);
                continue;
            }

            bool? existed = rng.Next(3) switch { 0 => null, 1 => true, _ => false };
            var result = op.Kind switch
            {
                OperationKind.Put => OperationResult.Written(rng.Next(1, 6), existed),
                OperationKind.Delete => OperationResult.Deleted(rng.Next(2) == 0),
                OperationKind.Cas => rng.Next(2) == 0 ? OperationResult.Written(rng.Next(1, 6), existed) : OperationResult.Conflict(rng.Next(0, 5)),
                _ => rng.Next(3) == 0 ? OperationResult.ReadMissing() : OperationResult.ReadValue(values[rng.Next(2)], rng.Next(1, 6)),
            };
            b.Ok(i, op, invoke, complete, result);
        }

        return b.Build();
    }
}
