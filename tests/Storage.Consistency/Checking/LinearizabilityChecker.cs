using System.Diagnostics;

namespace Storage.Consistency;

/// <summary>
/// Checks a history of the store against its sequential specification (see <see cref="RegisterModel"/>):
/// is there one order of the operations, consistent with real time (an operation that completed before
/// another was invoked comes first), in which every answer is what the specification gives?
/// <para>Keys are checked independently (linearizability is compositional) with the Wing–Gong/Lowe search
/// (see <see cref="WglSearch"/>). Failed operations are dropped: they were not applied. Unknown ones may
/// take effect at any point after their invocation, or never; their results are unknown.</para>
/// </summary>
public static class LinearizabilityChecker
{
    public static CheckResult Check(History history, CheckerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= CheckerOptions.Default;
        var stopwatch = Stopwatch.StartNew();
        var keys = KeyHistory.Split(history);
        var results = new KeyCheckResult[keys.Count];
        Parallel.For(
            0,
            keys.Count,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism) },
            i => results[i] = CheckKey(keys[i], options));
        return new CheckResult(results, stopwatch.Elapsed);
    }

    // Steps the exact search gets before the relaxed check is tried, for keys with lost writes. Legal
    // histories almost always finish well within it.
    private const long ExactFirstSlice = 100_000;

    private static KeyCheckResult CheckKey(KeyHistory key, CheckerOptions options)
    {
        var budget = new SearchBudget(options.MaxStepsPerKey, options.TimeBudgetPerKey);
        bool mono = options.VersionsIncreaseAcrossDeletes;
        var model = new RegisterModel(key.Ops, mono);
        string? note = null;
        SearchOutcome outcome;
        if (key.Ops.Any(o => !o.Known))
        {
            // Lost writes can make the exact search exponential when the history is illegal (it must rule
            // out every way they could have interleaved). A short exact try, then the relaxed check — which
            // can only prove illegality — then the exact search with the rest of the budget.
            outcome = WglSearch.Run(key.Ops, model, budget.Slice(ExactFirstSlice));
            if (outcome == SearchOutcome.BudgetExceeded)
            {
                outcome = Minimizer.CheckRelaxed(key.Ops, mono, budget) == SearchOutcome.Illegal
                    ? SearchOutcome.Illegal
                    : WglSearch.Run(key.Ops, model, budget);
                if (outcome == SearchOutcome.Illegal)
                {
                    note = "decided with lost writes assumed able to take effect any number of times (a weakening)";
                }
            }
        }
        else
        {
            outcome = WglSearch.Run(key.Ops, model, budget);
        }

        var elapsed = budget.Elapsed;
        FailureWitness? witness = null;
        var minimizeElapsed = TimeSpan.Zero;
        if (outcome == SearchOutcome.Illegal)
        {
            var minimizeWatch = Stopwatch.StartNew();
            witness = options.Minimize
                ? Minimizer.Minimize(key.Ops, options)
                : new FailureWitness(
                    key.Ops.Select(o => new WitnessOperation(o.Record, AnswerIgnored: false)).OrderBy(o => o.Record.InvokeTime).ToArray(),
                    [],
                    null,
                    key.Ops.Count,
                    isMinimal: false);
            minimizeElapsed = minimizeWatch.Elapsed;
        }

        var verdict = outcome switch
        {
            SearchOutcome.Linearizable => CheckOutcome.Ok,
            SearchOutcome.Illegal => CheckOutcome.Illegal,
            _ => CheckOutcome.Unknown,
        };
        return new KeyCheckResult(key.Key, verdict, key.OperationCount, key.Ops.Count, budget.Steps, elapsed, witness, minimizeElapsed, note);
    }
}
