using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Storage.Directory;

namespace Storage.Silo.Hosting;

/// <summary>The one place that wires a silo for the store: used by the host and by the tests' TestCluster.</summary>
public static class StorageSiloBuilderExtensions
{
    public const string Invariant = "Npgsql";

    /// <summary>
    /// PostgreSQL membership (AdoNet), checkpoint storage (AdoNet), the schema applied at start, silo
    /// metadata with the region and zone, and the store's grains and services.
    /// </summary>
    public static ISiloBuilder UseStorage(this ISiloBuilder silo, string connectionString, string region, string zone, IConfiguration? configuration = null)
    {
        silo.Services.AddSingleton(new StorageConnection(connectionString));
        silo.Services.AddSingleton<SchemaState>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SchemaInstallerParticipant>();
        return silo
            .UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            })
            .AddAdoNetGrainStorage(StorageProviders.Checkpoints, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            })
            .UseSiloMetadata(new Dictionary<string, string>
            {
                [SiloMetadataKeys.Region] = region,
                [SiloMetadataKeys.Zone] = zone,
            })
            .AddStorageServer(connectionString, configuration);
    }
}
