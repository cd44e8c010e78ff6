using System.Globalization;

namespace Storage.Bench;

/// <summary>One benchmark run: what to drive, with which mix, how hard and for how long.</summary>
public sealed class BenchOptions
{
    public BenchDriverKind Driver { get; set; } = BenchDriverKind.Store;

    public BenchWorkload Workload { get; set; } = BenchWorkload.A;

    /// <summary>Concurrent clients: workers that each run one operation at a time, back to back (a closed loop).</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>How long the measurement lasts (after the warm-up); ignored when <see cref="Operations"/> is set.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>When set, the measurement ends after this many operations (after the warm-up) instead of after <see cref="Duration"/>.</summary>
    public long? Operations { get; set; }

    /// <summary>How long the workers run before measuring (connections, activations, caches, JIT); nothing in it is counted.</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Number of distinct keys; each operation picks one uniformly at random.</summary>
    public int Keys { get; set; } = 10_000;

    /// <summary>Bytes per written value (random bytes).</summary>
    public int ValueSize { get; set; } = 256;

    public BenchConsistency Consistency { get; set; } = BenchConsistency.Linearizable;

    /// <summary>
    /// Whether every key is written once before the warm-up so that reads find values. Null (the default) preloads
    /// for workloads that read and skips it for writes only.
    /// </summary>
    public bool? Preload { get; set; }

    /// <summary>Keys are <c>{KeyPrefix}{index:D8}</c>.</summary>
    public string KeyPrefix { get; set; } = "bench/";

    /// <summary>Seeds the per-worker random choices (keys, read or write, values); null picks one.</summary>
    public int? Seed { get; set; }

    /// <summary>A name for this run in results and comparisons (e.g. <c>write-256</c>); null for none.</summary>
    public string? Label { get; set; }

    /// <summary>Comma-separated etcd client URLs, e.g. <c>http://127.0.0.1:2379,http://127.0.0.1:22379</c>.</summary>
    public string EtcdEndpoints { get; set; } = "http://127.0.0.1:2379";

    /// <summary>The PostgreSQL of the postgres driver; its database is created when missing.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Whether to write all keys once first: <see cref="Preload"/>, or its default for the workload.</summary>
    public bool ShouldPreload => Preload ?? Workload != BenchWorkload.Write;

    /// <summary>The key with index <paramref name="index"/>.</summary>
    public string Key(int index) => string.Create(CultureInfo.InvariantCulture, $"{KeyPrefix}{index:D8}");

    /// <summary>Problems with the settings, each naming its command-line option; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Concurrency is < 1 or > 100_000)
        {
            errors.Add($"--concurrency must be between 1 and 100000 (got {Concurrency})");
        }

        if (Operations is { } ops && ops < 1)
        {
            errors.Add($"--ops must be at least 1 (got {ops})");
        }

        if (Operations is null && Duration <= TimeSpan.Zero)
        {
            errors.Add("--duration must be positive");
        }

        if (Warmup < TimeSpan.Zero)
        {
            errors.Add("--warmup must not be negative");
        }

        if (Keys < 1)
        {
            errors.Add($"--keys must be at least 1 (got {Keys})");
        }

        if (ValueSize is < 0 or > 64 * 1024 * 1024)
        {
            errors.Add($"--value-size must be between 0 and 67108864 bytes (got {ValueSize})");
        }

        if (string.IsNullOrEmpty(KeyPrefix))
        {
            errors.Add("the key prefix must not be empty");
        }

        if (Driver == BenchDriverKind.Etcd && string.IsNullOrWhiteSpace(EtcdEndpoints))
        {
            errors.Add("--etcd-endpoints must name at least one etcd client URL");
        }

        if (Driver == BenchDriverKind.Postgres && string.IsNullOrWhiteSpace(PostgresConnectionString))
        {
            errors.Add("--driver postgres needs --pg-connection-string");
        }

        return errors;
    }
}
