namespace Storage.Bench;

/// <summary>Names and properties of the enums as they appear on the command line and in results.</summary>
public static class BenchNames
{
    public static string Name(this BenchDriverKind driver) => driver.ToString().ToLowerInvariant();

    public static string Name(this BenchWorkload workload) => workload.ToString().ToLowerInvariant();

    public static string Name(this BenchConsistency consistency) => consistency.ToString().ToLowerInvariant();

    /// <summary>The share of operations that are reads (0 to 1).</summary>
    public static double ReadFraction(this BenchWorkload workload) => workload switch
    {
        BenchWorkload.Write => 0,
        BenchWorkload.A => 0.5,
        BenchWorkload.B => 0.95,
        BenchWorkload.C => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(workload), workload, null),
    };

    public static BenchDriverKind ParseDriver(string value) => Parse<BenchDriverKind>(value, "driver");

    public static BenchWorkload ParseWorkload(string value) => Parse<BenchWorkload>(value, "workload");

    public static BenchConsistency ParseConsistency(string value) => Parse<BenchConsistency>(value, "consistency");

    private static T Parse<T>(string value, string what)
        where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new ArgumentException($"unknown {what} '{value}' (one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))})");
}
