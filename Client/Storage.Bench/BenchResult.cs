using System.Text.Json;
using System.Text.Json.Serialization;
using HdrHistogram;

namespace Storage.Bench;

/// <summary>Latency percentiles of one kind of operation (or all), in milliseconds, from an HdrHistogram.</summary>
public sealed record LatencySummary(
    long Count,
    double MeanMs,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs)
{
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>Summarises a histogram of latencies recorded in microseconds.</summary>
    public static LatencySummary FromMicroseconds(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.TotalCount == 0)
        {
            return Empty;
        }

        static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
        return new LatencySummary(
            histogram.TotalCount,
            Math.Round(histogram.GetMean() / 1000.0, 3),
            Ms(histogram.GetValueAtPercentile(50)),
            Ms(histogram.GetValueAtPercentile(90)),
            Ms(histogram.GetValueAtPercentile(99)),
            Ms(histogram.GetValueAtPercentile(99.9)),
            Ms(histogram.GetMaxValue()));
    }
}

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

/// <summary>Writes and reads <see cref="BenchResult"/> JSON files (camelCase, indented; one result per file).</summary>
public static class BenchResultJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Serialize(BenchResult result) => JsonSerializer.Serialize(result, Options);

    public static BenchResult Deserialize(string json) =>
        JsonSerializer.Deserialize<BenchResult>(json, Options) ?? throw new JsonException("the file holds no result");

    public static async Task WriteAsync(string path, BenchResult result, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } folder)
        {
            System.IO.Directory.CreateDirectory(folder);
        }

        await File.WriteAllTextAsync(full, Serialize(result) + Environment.NewLine, ct).ConfigureAwait(false);
    }

    public static async Task<BenchResult> ReadAsync(string path, CancellationToken ct = default) =>
        Deserialize(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false));
}
