using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Storage.Directory;
using Storage.Persistence;
using Storage.Routing;
using Storage.Shards;

namespace Storage;

/// <summary>Registers the server side (replicas, directory, router, placement, log writer) on a silo.</summary>
public static class StorageServerExtensions
{
    /// <summary>
    /// Adds the store to a silo. The host must also configure AdoNet clustering, the
    /// <see cref="StorageProviders.Checkpoints"/> grain storage and silo metadata (region, zone).
    /// Options bind from <paramref name="configuration"/> sections Storage:Replica, Storage:Directory,
    /// Storage:Router, Storage:Limits and Storage:Keeper when given.
    /// </summary>
    public static ISiloBuilder AddStorageServer(this ISiloBuilder builder, string connectionString, IConfiguration? configuration = null)
    {
        var services = builder.Services;
        var replica = services.AddOptions<ShardReplicaOptions>().Validate(o => { o.Validate(); return true; }).ValidateOnStart();
        var directory = services.AddOptions<DirectoryOptions>().Validate(o => { o.Validate(); return true; }).ValidateOnStart();
        var router = services.AddOptions<RouterOptions>();
        var limits = services.AddOptions<StoreLimitsOptions>();
        var keeper = services.AddOptions<ReplicaKeeperOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReplicaKeeperOptions>, ReplicaKeeperOptionsValidator>();
        if (configuration is not null)
        {
            replica.Bind(configuration.GetSection("Storage:Replica"));
            directory.Bind(configuration.GetSection("Storage:Directory"));
            router.Bind(configuration.GetSection("Storage:Router"));
            limits.Bind(configuration.GetSection("Storage:Limits"));
            keeper.Bind(configuration.GetSection(ReplicaKeeperOptions.SectionName));
        }

        services.AddRaftLogPersistence(connectionString);
        services.AddSingleton<ShardMapCache>();
        services.AddSingleton<LeaderHints>();
        services.AddSingleton<ReplicaMetrics>();
        services.AddSingleton<LocalReplicas>();
        services.TryAddSingleton<IReplicaFaultHooks>(NoReplicaFaultHooks.Instance);
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, LeadershipHandoff>();
        services.AddSingleton<ReplicaKeeper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ReplicaKeeper>());
        builder.AddPlacementDirector<ReplicaPlacementStrategy, ReplicaPlacementDirector>();
        return builder;
    }
}
