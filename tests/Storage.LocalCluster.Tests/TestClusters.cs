using System.Net;
using System.Net.Sockets;

namespace Storage.LocalCluster.Tests;

/// <summary>Options for a throwaway local cluster: a temp data folder and a free block of ports away from the defaults.</summary>
internal static class TestClusters
{
    /// <summary>
    /// A base port P such that P..P+n-1, P+100.. and P+200.. (see <see cref="LocalClusterOptions.UseBasePort"/>) are
    /// free right now. Chosen below Linux's ephemeral range (32768+), so outgoing connections do not grab them meanwhile,
    /// and away from the launcher's defaults, so a developer's own local cluster can keep running.
    /// </summary>
    public static int FreeBasePort(int silos = 3)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var basePort = Random.Shared.Next(12_000, 32_000 - 300);
            var ports = Enumerable.Range(0, silos).SelectMany(i => new[] { basePort + i, basePort + 100 + i, basePort + 200 + i });
            if (ports.All(IsFree))
            {
                return basePort;
            }
        }

        throw new InvalidOperationException("no free block of ports found below 32000");
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

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
