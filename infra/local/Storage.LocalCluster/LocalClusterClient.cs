using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Storage.Silo.Hosting;

namespace Storage.LocalCluster;

/// <summary>An Orleans client of a cluster, found through its AdoNet membership table (the way any application connects).</summary>
public static class LocalClusterClient
{
    /// <summary>
    /// Starts a client host connected to the cluster whose membership lives in <paramref name="connectionString"/>.
    /// Dispose the host to disconnect. No logging providers are added unless <paramref name="configure"/> adds them:
    /// a client whose silos come and go (the point of a local cluster) is otherwise loud.
    /// </summary>
    public static async Task<IHost> ConnectAsync(
        string connectionString,
        string clusterId = "storage",
        string serviceId = "storage",
        Action<IClientBuilder>? configure = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var host = new HostBuilder()
            .UseOrleansClient(client =>
            {
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = StorageSiloBuilderExtensions.Invariant;
                    o.ConnectionString = connectionString;
                });
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = serviceId;
                });
                configure?.Invoke(client);
            })
            .Build();
        try
        {
            await host.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }
}
