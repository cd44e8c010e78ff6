namespace Storage.Bench;

/// <summary>One benchmark run's outcome: what ran, how many operations completed in the measured window, throughput and latency.</summary>
public sealed record BenchResult
{
    public string? Label { get; init; }

    public required string Driver { get; init; }

    public required string Workload { get; init; }

    public required int Concurrency { get; init; }

    public required string Consistency { get; init; }

    /// <summary>What reads meant on this driver (see <see cref="IBenchDriver.ReadSemantics"/>).</summary>
    public required string ReadSemantics { get; init; }

    public required int Keys { get; init; }

    public required int ValueSize { get; init; }

    public required double WarmupSeconds { get; init; }

    /// <summary>The measured window: from the end of the warm-up to the end of the run (or to the last counted operation with <c>--ops</c>).</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>Operations that succeeded in the measured window.</summary>
    public required long Ops { get; init; }

    /// <summary>Operations that failed in the measured window (not in the latencies).</summary>
    public required long Errors { get; init; }

    /// <summary>Successful operations per second over the measured window.</summary>
    public required double Throughput { get; init; }

    /// <summary>All successful operations.</summary>
    public required LatencySummary Latency { get; init; }

    public required LatencySummary Reads { get; init; }

    public required LatencySummary Writes { get; init; }

    /// <summary>Keys written before the warm-up (0 when there was no preload), and how many of those writes failed.</summary>
    public long Preloaded { get; init; }

    public long PreloadErrors { get; init; }

    /// <summary>The most frequent error kinds of the measured window ("Type: message" → count).</summary>
    public IReadOnlyDictionary<string, long> ErrorKinds { get; init; } = new Dictionary<string, long>();

    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Where it ran: machine name, processor count, OS, .NET version.</summary>
    public required string Machine { get; init; }

    public double P50Ms => Latency.P50Ms;

    public double P90Ms => Latency.P90Ms;

    public double P99Ms => Latency.P99Ms;

    public double P999Ms => Latency.P999Ms;

    public double MaxMs => Latency.MaxMs;
}
