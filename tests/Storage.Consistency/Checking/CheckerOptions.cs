namespace Storage.Consistency;

/// <summary>Limits and model switches for <see cref="LinearizabilityChecker"/>.</summary>
public sealed record CheckerOptions
{
    public static CheckerOptions Default { get; } = new();

    /// <summary>Search steps allowed for one key before its verdict becomes "unknown (budget exceeded)".</summary>
    public long MaxStepsPerKey { get; init; } = 20_000_000;

    /// <summary>Wall-clock time allowed for one key's check (the minimization has its own budget).</summary>
    public TimeSpan TimeBudgetPerKey { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether to shrink a failing key's history to a small witness.</summary>
    public bool Minimize { get; init; } = true;

    /// <summary>Wall-clock time allowed for shrinking one key's witness; when it runs out the witness found so far is reported.</summary>
    public TimeSpan MinimizeTimeBudgetPerKey { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Versions are log indexes, so a key re-created after a delete gets a version above every earlier one.
    /// True (the store's rule) checks that; false only requires a new version above the current one
    /// (0 after a delete).
    /// </summary>
    public bool VersionsIncreaseAcrossDeletes { get; init; } = true;

    /// <summary>Keys are independent (P-compositionality) and checked in parallel, up to this many at a time.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
