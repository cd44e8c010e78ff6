using System.Globalization;
using System.Text;

namespace Storage.Bench;

/// <summary>Plain-text tables of results: aligned columns, no colour, easy to read in a log and to paste into a document.</summary>
public static class BenchReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One run: a row for all operations, and one each for reads and writes when the workload mixes them.</summary>
    public static string Format(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        var title = result.Label is null ? string.Empty : $" [{result.Label}]";
        text.AppendLine(Inv, $"{result.Driver}{title}: workload {result.Workload}, {result.Concurrency} clients, {result.Keys} keys, {result.ValueSize} B values, {result.DurationSeconds:0.0} s measured after {result.WarmupSeconds:0.#} s warm-up");
        if (result.ReadSemantics != "no reads")
        {
            text.AppendLine(Inv, $"reads: {result.Consistency} — {result.ReadSemantics}");
        }

        var rows = new List<string[]> { Row("all", result.Ops, result.Errors, result.Throughput, result.Latency) };
        if (result.Reads.Count > 0 && result.Writes.Count > 0)
        {
            rows.Add(Row("reads", result.Reads.Count, null, result.Reads.Count / result.DurationSeconds, result.Reads));
            rows.Add(Row("writes", result.Writes.Count, null, result.Writes.Count / result.DurationSeconds, result.Writes));
        }

        Table(text, ["ops", "count", "errors", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"], rows, rightAlignFrom: 1);
        if (result.Preloaded > 0 || result.PreloadErrors > 0)
        {
            text.AppendLine(Inv, $"preloaded {result.Preloaded} keys ({result.PreloadErrors} failed)");
        }

        foreach (var (kind, count) in result.ErrorKinds)
        {
            text.AppendLine(Inv, $"error ×{count}: {kind}");
        }

        return text.ToString();

        static string[] Row(string name, long count, long? errors, double throughput, LatencySummary l) =>
        [
            name,
            count.ToString(Inv),
            errors?.ToString(Inv) ?? string.Empty,
            throughput.ToString("0", Inv),
            Ms(l.P50Ms),
            Ms(l.P90Ms),
            Ms(l.P99Ms),
            Ms(l.P999Ms),
            Ms(l.MaxMs),
        ];
    }

    /// <summary>Milliseconds with three significant-ish digits: 0.412, 4.12, 41.2, 412.</summary>
    public static string Ms(double ms) => ms switch
    {
        0 => "0",
        < 1 => ms.ToString("0.000", Inv),
        < 10 => ms.ToString("0.00", Inv),
        < 100 => ms.ToString("0.0", Inv),
        _ => ms.ToString("0", Inv),
    };

    /// <summary>A ratio as "3.2×"; "n/a" when either side is missing or zero.</summary>
    public static string Ratio(double? value, double? baseline) =>
        value is { } v && baseline is { } b && b > 0 && v > 0 ? (v / b).ToString(v / b >= 10 ? "0.0" : "0.00", Inv) + "×" : "n/a";

    /// <summary>Appends an aligned table; columns from <paramref name="rightAlignFrom"/> on are right-aligned (numbers).</summary>
    public static void Table(StringBuilder text, string[] header, IReadOnlyList<string[]> rows, int rightAlignFrom)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => c < r.Length ? r[c].Length : 0)).ToArray();
        foreach (var row in all)
        {
            var line = new StringBuilder("  ");
            for (var c = 0; c < header.Length; c++)
            {
                var cell = c < row.Length ? row[c] : string.Empty;
                line.Append(c >= rightAlignFrom ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
                if (c < header.Length - 1)
                {
                    line.Append("  ");
                }
            }

            text.AppendLine(line.ToString().TrimEnd());
        }
    }
}
