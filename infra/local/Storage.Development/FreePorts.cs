using System.Net;
using System.Net.Sockets;

namespace Storage.Development;

/// <summary>Free TCP ports on this machine, for the servers a developer tool or a test starts.</summary>
public static class FreePorts
{
    /// <summary>A loopback port free right now (the OS picks it).</summary>
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

    /// <summary>
    /// True when nothing listens on the port. Silos listen on every address (silo and gateway ports) or on
    /// loopback (probes, PostgreSQL): binding the wildcard address fails if anything listens on the port on any address.
    /// </summary>
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
}
