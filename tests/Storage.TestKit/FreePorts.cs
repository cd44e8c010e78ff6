using System.Net;
using System.Net.Sockets;

namespace Storage.TestKit;

/// <summary>Free loopback ports for processes a test starts.</summary>
public static class FreePorts
{
    /// <summary>A port free right now (the OS picks it).</summary>
    public static int One()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A base port P such that P..P+n-1, P+100.. and P+200.. are free (the local cluster's silo, gateway and
    /// probe ports). Below Linux's ephemeral range (32768+), so outgoing connections do not grab them meanwhile,
    /// and away from the launcher's defaults, so a developer's own local cluster can keep running.
    /// </summary>
    public static int Block(int silos = 3)
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

    /// <summary>True when nothing listens on the port on any address (the local cluster's own check).</summary>
    public static bool IsFree(int port) => Storage.LocalCluster.Ports.IsFree(port);
}
