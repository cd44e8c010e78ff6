using System.Diagnostics;

namespace Storage.Consistency;

/// <summary>
/// A limit on search steps and wall-clock time. A slice is a smaller budget inside a parent: what it
/// spends counts against both.
/// </summary>
internal sealed class SearchBudget
{
    private readonly Stopwatch _stopwatch = Stopwatch.StartNew();
    private readonly long _maxSteps;
    private readonly TimeSpan _maxTime;
    private readonly SearchBudget? _parent;
    private long _steps;

    public SearchBudget(long maxSteps, TimeSpan maxTime)
        : this(maxSteps, maxTime, null)
    {
    }

    private SearchBudget(long maxSteps, TimeSpan maxTime, SearchBudget? parent)
    {
        _maxSteps = maxSteps;
        _maxTime = maxTime;
        _parent = parent;
    }

    public long Steps => _steps;

    public TimeSpan Elapsed => _stopwatch.Elapsed;

    /// <summary>A budget of at most <paramref name="maxSteps"/> more steps, also bounded by this one.</summary>
    public SearchBudget Slice(long maxSteps) => new(maxSteps, TimeSpan.MaxValue, this);

    /// <summary>Counts <paramref name="steps"/> more; true while the budget lasts. Reads the clock only when asked to.</summary>
    public bool Spend(long steps, bool checkClock)
    {
        _steps += steps;
        bool ok = _steps < _maxSteps && (!checkClock || _stopwatch.Elapsed < _maxTime);
        return _parent is null ? ok : _parent.Spend(steps, checkClock) && ok;
    }
}
