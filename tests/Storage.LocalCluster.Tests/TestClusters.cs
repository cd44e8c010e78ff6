
namespace Storage.LocalCluster.Tests;

/// <summary>Options for a throwaway local cluster: a temp data folder and a free block of ports away from the defaults.</summary>
internal static class TestClusters
{
    /// <summary>A free block of silo, gateway and probe ports (see <see cref="Storage.Development.FreePorts.Block"/>).</summary>
    public static int FreeBasePort(int silos = 3) => Storage.Development.FreePorts.Block(silos);

    public static bool IsFree(int port) => Storage.Development.FreePorts.IsFree(port);

    /// <summary>
    /// A 3-silo cluster with a non-durable embedded PostgreSQL on a free port, 4 shards, and a router retry budget
    /// short enough that a write during an outage fails (typed) within the test's patience rather than after 20 s.
    /// </summary>
    public static LocalClusterOptions Options(string dataDirectory, int basePort)
    {
        var options = new LocalClusterOptions
        {
            DataDirectory = dataDirectory,
            PostgresPort = 0,
            DurablePostgres = false,
            ReadyTimeout = TimeSpan.FromSeconds(120),
            Settings =
            {
                ["Storage:Directory:InitialShards"] = "4",
                ["Storage:Router:RetryBudget"] = "00:00:08",
            },
        };
        options.UseBasePort(basePort);
        return options;
    }
}
