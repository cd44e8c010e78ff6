namespace Storage.Raft.Tests.Simulation;

/// <summary>How many seeds and steps to run, from the environment (replay, soak) or the CI default.</summary>
internal static class SimulationBudget
{
    public static bool IsReplay => Environment.GetEnvironmentVariable("STORAGE_RAFT_SEED") is { Length: > 0 };

    public static bool IsOverridden => IsReplay || Environment.GetEnvironmentVariable("STORAGE_RAFT_SEEDS") is { Length: > 0 };

    public static int StepsPerPhase =>
        int.TryParse(Environment.GetEnvironmentVariable("STORAGE_RAFT_STEPS"), out var s) && s > 0 ? s : 2500;

    public static IReadOnlyList<int> Seeds(int defaultCount = 150)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("STORAGE_RAFT_SEED"), out var one))
        {
            return new[] { one };
        }

        var count = int.TryParse(Environment.GetEnvironmentVariable("STORAGE_RAFT_SEEDS"), out var n) && n > 0 ? n : defaultCount;
        return Enumerable.Range(1, count).ToList();
    }
}
