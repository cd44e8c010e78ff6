using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Storage.Directory;

namespace Storage.Silo.Hosting;

/// <summary>The one place that wires a silo for the store: used by the host and by the tests' TestCluster.</summary>
public static class StorageSiloBuilderExtensions
{
    /// <summary>The ADO.NET invariant of every AdoNet provider (grain storage would default to SQL Server).</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Adds the store with its options bound from <paramref name="configuration"/>, the <c>Storage</c> section:
    /// <see cref="StorageOptions"/> from the section itself, each part's tuning from its sub-section
    /// (<c>Replica</c>, <c>Directory</c>, <c>Router</c>, <c>Limits</c>, <c>LogWriter</c>, <c>Database</c>).
    /// </summary>
    public static ISiloBuilder UseStorage(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        silo.AddStorageServer(configuration);
        return silo.AddStorageHosting(configuration.Get<StorageOptions>() ?? new StorageOptions());
    }

    /// <summary>Adds the store with <see cref="StorageOptions"/> set in code; each part's tuning keeps its defaults unless configured.</summary>
    public static ISiloBuilder UseStorage(this ISiloBuilder silo, Action<StorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        silo.Services.Configure(configure);
        silo.AddStorageServer();
        var options = new StorageOptions();
        configure(options);
        return silo.AddStorageHosting(options);
    }

    /// <summary>
    /// PostgreSQL membership (AdoNet), checkpoint storage (AdoNet), the schema applied at start and silo metadata
    /// with the region and zone. The AdoNet providers open their own connections from the connection string (their
    /// own pool, not the silo's data source). Silo metadata is fixed when the silo is built, so the region and zone
    /// are read from <paramref name="options"/> now; everything else reads the validated options at start.
    /// </summary>
    private static ISiloBuilder AddStorageHosting(this ISiloBuilder silo, StorageOptions options)
    {
        silo.Services.AddSingleton<SchemaState>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SchemaInstallerParticipant>();
        return silo
            .UseAdoNetClustering(builder => builder.Configure<IOptions<StorageOptions>>((o, storage) =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = storage.Value.ConnectionString;
            }))
            .AddAdoNetGrainStorage(StorageProviders.Checkpoints, builder => builder.Configure<IOptions<StorageOptions>>((o, storage) =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = storage.Value.ConnectionString;
            }))
            .UseSiloMetadata(new Dictionary<string, string>
            {
                [SiloMetadataKeys.Region] = options.Region,
                [SiloMetadataKeys.Zone] = options.Zone,
            });
    }
}
