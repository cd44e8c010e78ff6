using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Storage.Development.Tests;

public sealed class FreePortsTests
{
    [Fact]
    public void A_port_someone_listens_on_is_not_free()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        Assert.False(FreePorts.IsFree(port));

        squatter.Stop();
        Assert.True(FreePorts.IsFree(port));
    }

    [Fact]
    public void A_block_has_every_silo_gateway_and_probe_port_free()
    {
        var basePort = FreePorts.Block(silos: 3);
        Assert.InRange(basePort, 12_000, 32_000 - 300);
        foreach (var offset in new[] { 0, 1, 2, 100, 101, 102, 200, 201, 202 })
        {
            Assert.True(FreePorts.IsFree(basePort + offset), $"port {basePort + offset}");
        }
    }
}
