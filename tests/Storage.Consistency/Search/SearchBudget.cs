using System.Diagnostics;

namespace Storage.Consistency;

/// <summary>A limit on search steps and wall-clock time, shared by the searches of one key.</summary>
internal sealed class SearchBudget
{
    private readonly Stopwatch _stopwatch = Stopwatch.StartNew();
    private readonly long _maxSteps;
    private readonly TimeSpan _maxTime;
    private long _steps;

    public SearchBudget(long maxSteps, TimeSpan maxTime)
    {
        _maxSteps = maxSteps;
        _maxTime = maxTime;
    }

    public long Steps => _steps;

    public TimeSpan Elapsed => _stopwatch.Elapsed;

    public bool Exhausted => _steps >= _maxSteps || _stopwatch.Elapsed >= _maxTime;

    /// <summary>Counts <paramref name="steps"/> more; true while the budget lasts. Reads the clock only now and then.</summary>
    public bool Spend(long steps, bool checkClock)
    {
        _steps += steps;
        return _steps < _maxSteps && (!checkClock || _stopwatch.Elapsed < _maxTime);
    }
}
