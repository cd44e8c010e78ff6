using System.Globalization;
using System.Text;

namespace Storage.Consistency;

/// <summary>The verdict for one key.</summary>
public sealed class KeyCheckResult
{
    internal KeyCheckResult(
        string key,
        CheckOutcome outcome,
        int operationCount,
        int checkedOperationCount,
        long steps,
        TimeSpan elapsed,
        FailureWitness? witness,
        TimeSpan minimizeElapsed,
        string? note)
    {
        Note = note;
        Key = key;
        Outcome = outcome;
        OperationCount = operationCount;
        CheckedOperationCount = checkedOperationCount;
        Steps = steps;
        Elapsed = elapsed;
        Witness = witness;
        MinimizeElapsed = minimizeElapsed;
    }

    public string Key { get; }

    public CheckOutcome Outcome { get; }

    /// <summary>Operations on this key in the history.</summary>
    public int OperationCount { get; }

    /// <summary>Operations the search considered (failed operations and unanswered reads change nothing and are left out).</summary>
    public int CheckedOperationCount { get; }

    /// <summary>Search steps of the check itself (not of the minimization).</summary>
    public long Steps { get; }

    /// <summary>Time of the check itself (not of the minimization).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Time spent shrinking the witness.</summary>
    public TimeSpan MinimizeElapsed { get; }

    /// <summary>How the verdict was reached, when not by the plain exact search.</summary>
    public string? Note { get; }

    /// <summary>For <see cref="CheckOutcome.Illegal"/>: the explanation.</summary>
    public FailureWitness? Witness { get; }

    public string Render()
    {
        var sb = new StringBuilder();
        string stats = string.Create(
            CultureInfo.InvariantCulture,
            $"{CheckedOperationCount} of {OperationCount} operations checked, {Steps} steps, {Elapsed.TotalMilliseconds:F1} ms");
        switch (Outcome)
        {
            case CheckOutcome.Ok:
                sb.Append($"key \"{Key}\": linearizable ({stats})").AppendLine();
                break;
            case CheckOutcome.Unknown:
                sb.Append($"key \"{Key}\": UNKNOWN (budget exceeded; {stats}) — raise CheckerOptions.MaxStepsPerKey / TimeBudgetPerKey").AppendLine();
                break;
            default:
                sb.Append($"key \"{Key}\": NOT LINEARIZABLE ({stats}").Append(string.Create(
                    CultureInfo.InvariantCulture, $"; minimized in {MinimizeElapsed.TotalMilliseconds:F1} ms)")).AppendLine();
                if (Note is not null)
                {
                    sb.Append("  ").AppendLine(Note);
                }

                if (Witness is not null)
                {
                    sb.Append(Witness.Render("  "));
                }

                break;
        }

        return sb.ToString();
    }

    public override string ToString() => Render();
}
