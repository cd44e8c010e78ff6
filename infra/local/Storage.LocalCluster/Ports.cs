using System.Net;
using System.Net.Sockets;

namespace Storage.LocalCluster;

/// <summary>Checks that the ports a silo will listen on are free, so a clash fails up front with a clear message.</summary>
public static class Ports
{
    /// <summary>
    /// True when nothing listens on the port. Silos listen on every address (silo and gateway ports) or on
    /// loopback (probes): binding the wildcard address fails if anything listens on the port on any address.
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

    /// <summary>The ports of <paramref name="silos"/> that are taken, each described ("gateway port 30001 of silo-1").</summary>
    public static IReadOnlyList<string> Taken(IEnumerable<LocalSilo> silos)
    {
        var taken = new List<string>();
        foreach (var silo in silos)
        {
            foreach (var (kind, port) in new[] { ("silo", silo.SiloPort), ("gateway", silo.GatewayPort), ("http", silo.HttpPort) })
            {
                if (!IsFree(port))
                {
                    taken.Add($"{kind} port {port} of {silo.Name}");
                }
            }
        }

        return taken;
    }
}
