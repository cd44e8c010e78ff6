using System.Globalization;
using System.Text;

namespace Storage.Consistency;

/// <summary>The verdict for a whole history: per key, and overall (Illegal if any key is, else Unknown if any key is).</summary>
public sealed class CheckResult
{
    internal CheckResult(IReadOnlyList<KeyCheckResult> keys, TimeSpan elapsed)
    {
        Keys = keys;
        Elapsed = elapsed;
        Outcome = keys.Any(k => k.Outcome == CheckOutcome.Illegal) ? CheckOutcome.Illegal
            : keys.Any(k => k.Outcome == CheckOutcome.Unknown) ? CheckOutcome.Unknown
            : CheckOutcome.Ok;
    }

    public CheckOutcome Outcome { get; }

    public bool IsLinearizable => Outcome == CheckOutcome.Ok;

    /// <summary>Per key, in first-appearance order.</summary>
    public IReadOnlyList<KeyCheckResult> Keys { get; }

    /// <summary>Wall-clock time of the whole check, minimization included.</summary>
    public TimeSpan Elapsed { get; }

    public IEnumerable<KeyCheckResult> IllegalKeys => Keys.Where(k => k.Outcome == CheckOutcome.Illegal);

    public KeyCheckResult this[string key] => Keys.FirstOrDefault(k => k.Key == key)
        ?? throw new KeyNotFoundException($"no operations on key '{key}'");

    /// <summary>A summary line, then the explanation of every key that is not Ok.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append(string.Create(
            CultureInfo.InvariantCulture,
            $"{Outcome}: {Keys.Count} keys, {Keys.Sum(k => k.OperationCount)} operations, {Elapsed.TotalMilliseconds:F1} ms"));
        int illegal = Keys.Count(k => k.Outcome == CheckOutcome.Illegal);
        int unknown = Keys.Count(k => k.Outcome == CheckOutcome.Unknown);
        if (illegal > 0 || unknown > 0)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture, $" ({illegal} not linearizable, {unknown} undecided)"));
        }

        sb.AppendLine();
        foreach (var k in Keys.Where(k => k.Outcome != CheckOutcome.Ok))
        {
            sb.Append(k.Render());
        }

        return sb.ToString();
    }

    public override string ToString() => Render();
}
