using Xunit;

namespace Storage.Bench.Tests;

public sealed class BenchComparisonTests
{
    private static BenchResult Result(string label, string driver, double throughput, double p50, int concurrency = 256) => new()
    {
        Label = label,
        Driver = driver,
        Workload = "write",
        Concurrency = concurrency,
        Consistency = "linearizable",
        ReadSemantics = "no reads",
        Keys = 10,
        ValueSize = 8,
        WarmupSeconds = 1,
        DurationSeconds = 10,
        Ops = (long)(throughput * 10),
        Errors = 0,
        Throughput = throughput,
        Latency = new LatencySummary((long)(throughput * 10), p50, p50, p50 * 2, p50 * 4, p50 * 5, p50 * 6),
        Reads = LatencySummary.Empty,
        Writes = LatencySummary.Empty,
        StartedAt = DateTimeOffset.UnixEpoch,
        Machine = "test",
    };

    [Fact]
    public void Targets_compare_the_store_with_its_baselines()
    {
        var results = new[]
        {
            Result("write-256", "store", 3000, 50),
            Result("write-256", "etcd", 1000, 100),
            Result("write-256", "orleans", 1600, 80),
            Result("write-1", "store", 100, 3, concurrency: 1),
            Result("write-1", "etcd", 200, 2, concurrency: 1),
        };

        var outcomes = BenchComparison.Evaluate(results, BenchComparison.IssueTargets);

        Assert.Equal(4, outcomes.Count);
        Assert.True(outcomes[0].Met); // 3.0× etcd on writes at 256
        Assert.Equal(3.0, outcomes[0].Ratio!.Value, 3);
        Assert.Null(outcomes[1].Met); // no read-64 results
        Assert.False(outcomes[2].Met); // p50 3 ms vs 2 ms: 1.5× > 0.8×
        Assert.False(outcomes[3].Met); // 3000 vs 1600: 1.875× < 2×

        var text = BenchComparison.Format(results, BenchComparison.IssueTargets);
        Assert.Contains("[MET]", text, StringComparison.Ordinal);
        Assert.Contains("[NOT MET]", text, StringComparison.Ordinal);
        Assert.Contains("[NO DATA]", text, StringComparison.Ordinal);
        Assert.Contains("3.00×", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_round_trip_through_json()
    {
        var result = Result("write-256", "store", 1234.5, 1.25) with
        {
            ErrorKinds = new Dictionary<string, long> { ["TimeoutException: slow"] = 3 },
        };

        var back = BenchResultJson.Deserialize(BenchResultJson.Serialize(result));

        Assert.Equal(result.Throughput, back.Throughput);
        Assert.Equal(result.Latency, back.Latency);
        Assert.Equal(3, back.ErrorKinds["TimeoutException: slow"]);
        Assert.Contains("\"p99Ms\"", BenchResultJson.Serialize(result), StringComparison.Ordinal);
    }
}
