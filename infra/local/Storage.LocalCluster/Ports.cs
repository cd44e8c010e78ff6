using Storage.Development;

namespace Storage.LocalCluster;

/// <summary>Checks that the ports a silo will listen on are free, so a clash fails up front with a clear message.</summary>
internal static class Ports
{
    /// <summary>The ports of <paramref name="silos"/> that are taken, each described ("gateway port 30001 of silo-1").</summary>
    public static IReadOnlyList<string> Taken(IEnumerable<LocalSilo> silos)
    {
        var taken = new List<string>();
        foreach (var silo in silos)
        {
            foreach (var (kind, port) in new[] { ("silo", silo.SiloPort), ("gateway", silo.GatewayPort), ("http", silo.HttpPort) })
            {
                if (!FreePorts.IsFree(port))
                {
                    taken.Add($"{kind} port {port} of {silo.Name}");
                }
            }
        }

        return taken;
    }
}
