using Storage.Client;

namespace Storage.Bench.Drivers;

/// <summary>Makes the driver that <see cref="BenchOptions.Driver"/> names.</summary>
public static class BenchDrivers
{
    /// <summary>Whether the driver connects to the store's cluster (and so needs the client's connection options).</summary>
    public static bool NeedsCluster(BenchDriverKind kind) => kind is BenchDriverKind.Store or BenchDriverKind.Orleans;

    /// <param name="options">The run's options.</param>
    /// <param name="clientOptions">Builds the cluster connection options; called only for the store and orleans drivers.</param>
    public static IBenchDriver Create(BenchOptions options, Func<StorageClientOptions> clientOptions)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clientOptions);
        return options.Driver switch
        {
            BenchDriverKind.Store => new StoreDriver(clientOptions(), options.Consistency),
            BenchDriverKind.Orleans => new OrleansGrainDriver(clientOptions()),
            BenchDriverKind.Etcd => new EtcdDriver(options.EtcdEndpoints, options.Consistency),
            BenchDriverKind.Postgres => new PostgresDriver(options.PostgresConnectionString
                ?? throw new ArgumentException("--driver postgres needs --pg-connection-string")),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Driver, "unknown driver"),
        };
    }
}
