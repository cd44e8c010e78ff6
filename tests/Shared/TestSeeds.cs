namespace Storage.Tests;

/// <summary>
/// Seeds for randomized tests: a fixed set (always the same coverage) plus fresh ones each run (new coverage).
/// Set STORAGE_TEST_SEED=&lt;n&gt; to replay exactly one seed, e.g. one printed by a failure.
/// </summary>
internal static class TestSeeds
{
    public const string EnvironmentVariable = "STORAGE_TEST_SEED";

    public static IReadOnlyList<int> Get(int fixedCount, int freshCount)
    {
        string? replay = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(replay))
        {
            return int.TryParse(replay, out int seed)
                ? [seed]
                : throw new InvalidOperationException($"{EnvironmentVariable}='{replay}' is not an integer");
        }

        return Enumerable.Range(1, fixedCount).Concat(Enumerable.Range(0, freshCount).Select(_ => Random.Shared.Next())).ToArray();
    }
}
