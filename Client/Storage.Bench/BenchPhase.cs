namespace Storage.Bench;

/// <summary>Which part of a run is going on.</summary>
public enum BenchPhase
{
    Preparing,
    Preloading,
    WarmingUp,
    Measuring,
    Draining,
    Done,
}
