using System.Globalization;
using System.Text;

namespace Storage.Bench;

/// <summary>A goal for the store against a peer in one scenario (results with label <see cref="Scenario"/>).</summary>
public sealed record BenchTarget(string Scenario, string Description, BenchMetric Metric, string Baseline, double Factor);

/// <summary>How a target came out; <see cref="Met"/> is null when a result it needs is missing.</summary>
public sealed record BenchTargetOutcome(BenchTarget Target, double? Store, double? Baseline, double? Ratio, bool? Met);

/// <summary>Side-by-side tables of several runs, grouped by scenario (label), with ratios against etcd and the plain Orleans way.</summary>
public static class BenchComparison
{
    /// <summary>The store's targets from the benchmark issue (same machine, one run, 3 silos, RF 3, durable logs).</summary>
    public static IReadOnlyList<BenchTarget> IssueTargets { get; } =
    [
        new("write-256", "write throughput at 256 clients ≥ 3× etcd", BenchMetric.Throughput, "etcd", 3),
        new("read-64", "linearizable read throughput at 64 clients ≥ 5× etcd", BenchMetric.Throughput, "etcd", 5),
        new("write-1", "write p50 latency at 1 client ≤ 0.8× etcd", BenchMetric.P50, "etcd", 0.8),
        new("write-256", "write throughput at 256 clients ≥ 2× the plain Orleans way", BenchMetric.Throughput, "orleans", 2),
    ];

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] DriverOrder = ["store", "etcd", "postgres", "orleans"];

    /// <summary>The scenario a result belongs to: its label, else "workload-concurrency".</summary>
    public static string Scenario(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Label ?? string.Create(Inv, $"{result.Workload}-{result.Concurrency}");
    }

    /// <summary>Checks each target against the results (the latest result per scenario and driver counts).</summary>
    public static IReadOnlyList<BenchTargetOutcome> Evaluate(IReadOnlyList<BenchResult> results, IReadOnlyList<BenchTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(targets);
        var latest = Latest(results);
        return targets.Select(t =>
        {
            var store = Value(latest, t.Scenario, "store", t.Metric);
            var baseline = Value(latest, t.Scenario, t.Baseline, t.Metric);
            if (store is not { } s || baseline is not { } b || b <= 0)
            {
                return new BenchTargetOutcome(t, store, baseline, null, null);
            }

            var ratio = s / b;
            var met = t.Metric == BenchMetric.Throughput ? ratio >= t.Factor : ratio <= t.Factor;
            return new BenchTargetOutcome(t, s, b, ratio, met);
        }).ToList();
    }

    /// <summary>The comparison table and, when <paramref name="targets"/> is given, one line per target marked met or not.</summary>
    public static string Format(IReadOnlyList<BenchResult> results, IReadOnlyList<BenchTarget>? targets = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        var latest = Latest(results);
        var text = new StringBuilder();
        var rows = new List<string[]>();
        foreach (var scenario in latest.Keys.Select(k => k.Scenario).Distinct())
        {
            var etcd = latest.GetValueOrDefault((scenario, "etcd"));
            var orleans = latest.GetValueOrDefault((scenario, "orleans"));
            var drivers = latest.Keys.Where(k => k.Scenario == scenario).Select(k => k.Driver)
                .OrderBy(d => Array.IndexOf(DriverOrder, d) is var i && i >= 0 ? i : int.MaxValue)
                .ThenBy(d => d, StringComparer.Ordinal);
            foreach (var driver in drivers)
            {
                var r = latest[(scenario, driver)];
                rows.Add(
                [
                    scenario,
                    driver,
                    r.Workload,
                    r.Concurrency.ToString(Inv),
                    r.Throughput.ToString("0", Inv),
                    BenchReport.Ms(r.P50Ms),
                    BenchReport.Ms(r.P99Ms),
                    BenchReport.Ms(r.P999Ms),
                    BenchReport.Ms(r.MaxMs),
                    r.Errors.ToString(Inv),
                    BenchReport.Ratio(r.Throughput, etcd?.Throughput),
                    BenchReport.Ratio(r.P50Ms, etcd?.P50Ms),
                    BenchReport.Ratio(r.Throughput, orleans?.Throughput),
                ]);
            }
        }

        BenchReport.Table(
            text,
            ["scenario", "driver", "workload", "clients", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "ops/s vs etcd", "p50 vs etcd", "ops/s vs orleans"],
            rows,
            rightAlignFrom: 3);

        if (targets is { Count: > 0 })
        {
            text.AppendLine();
            text.AppendLine("Targets (the store against its peers, same machine, same run):");
            foreach (var outcome in Evaluate(results, targets))
            {
                var mark = outcome.Met switch
                {
                    true => "[MET]    ",
                    false => "[NOT MET]",
                    null => "[NO DATA]",
                };
                var unit = outcome.Target.Metric == BenchMetric.Throughput ? "ops/s" : "ms";
                var detail = outcome.Ratio is { } ratio
                    ? string.Create(Inv, $"store {Show(outcome.Store!.Value, outcome.Target.Metric)} {unit} vs {outcome.Target.Baseline} {Show(outcome.Baseline!.Value, outcome.Target.Metric)} {unit} = {ratio:0.00}×")
                    : $"missing the {outcome.Target.Scenario} result of {(outcome.Store is null ? "store" : outcome.Target.Baseline)}";
                text.AppendLine(Inv, $"  {mark} {outcome.Target.Description}: {detail}");
            }
        }

        return text.ToString();
    }

    private static string Show(double value, BenchMetric metric) =>
        metric == BenchMetric.Throughput ? value.ToString("0", Inv) : BenchReport.Ms(value);

    private static double? Value(Dictionary<(string Scenario, string Driver), BenchResult> latest, string scenario, string driver, BenchMetric metric) =>
        latest.TryGetValue((scenario, driver), out var r)
            ? metric == BenchMetric.Throughput ? r.Throughput : r.P50Ms
            : null;

    /// <summary>The last result (by start time) of each scenario and driver, in the order scenarios first appear.</summary>
    private static Dictionary<(string Scenario, string Driver), BenchResult> Latest(IReadOnlyList<BenchResult> results)
    {
        var latest = new Dictionary<(string Scenario, string Driver), BenchResult>();
        foreach (var result in results.OrderBy(r => r.StartedAt))
        {
            latest[(Scenario(result), result.Driver)] = result;
        }

        // Re-insert in first-appearance order of the scenarios so that tables follow the run's order.
        var order = results.OrderBy(r => r.StartedAt).Select(Scenario).Distinct().ToList();
        return latest.OrderBy(kv => order.IndexOf(kv.Key.Scenario))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
    }
}
