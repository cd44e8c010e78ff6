namespace Storage.Bench;

/// <summary>What a target compares.</summary>
public enum BenchMetric
{
    /// <summary>Successful operations per second; the store must reach at least Factor × the baseline's.</summary>
    Throughput,

    /// <summary>Median latency; the store's must be at most Factor × the baseline's.</summary>
    P50,
}
