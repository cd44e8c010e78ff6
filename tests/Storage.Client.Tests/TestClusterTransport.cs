using System.Reflection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Storage.Client.Tests;

/// <summary>
/// Lets a separately built Orleans client reach an <see cref="InProcessTestCluster"/>'s silos. Those silos listen
/// on the cluster's in-memory transport hub, not on TCP, so a client that found their gateways in the PostgreSQL
/// membership table must dial through the same hub. Orleans 10.4.2 keeps the hub and the extension internal; if a
/// later Orleans renames them this fails loudly rather than letting the tests silently dial TCP.
/// </summary>
public static class TestClusterTransport
{
    public static Action<IClientBuilder> For(InProcessTestCluster cluster)
    {
        var hubField = typeof(InProcessTestCluster).GetField("_transportHub", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("InProcessTestCluster._transportHub is gone; revisit how tests reach the in-process silos.");
        var hub = hubField.GetValue(cluster) ?? throw new InvalidOperationException("the test cluster has no transport hub");
        var extensions = typeof(InProcessTestCluster).Assembly.GetType("Orleans.TestingHost.InMemoryTransport.InMemoryTransportExtensions")
            ?? throw new InvalidOperationException("InMemoryTransportExtensions is gone; revisit how tests reach the in-process silos.");
        var use = extensions.GetMethod("UseInMemoryConnectionTransport", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, new[] { typeof(IClientBuilder), hub.GetType() })
            ?? throw new InvalidOperationException("InMemoryTransportExtensions.UseInMemoryConnectionTransport(IClientBuilder, hub) is gone.");
        return builder => use.Invoke(null, new[] { builder, hub });
    }
}
