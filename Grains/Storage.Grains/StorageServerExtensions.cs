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
    /// Every options class is validated when the silo starts; with <paramref name="configuration"/> (the
    /// <c>Storage</c> section) <see cref="StorageOptions"/> bind from it and each part's options from its
    /// sub-section.
    /// </summary>
    public static ISiloBuilder AddStorageServer(this ISiloBuilder builder, IConfiguration? configuration = null)
    {
        var services = builder.Services;
        AddValidatedOptions<StorageOptions, StorageOptionsValidator>(services, configuration);
        AddValidatedOptions<ShardReplicaOptions, ShardReplicaOptionsValidator>(services, configuration?.GetSection("Replica"));
        AddValidatedOptions<DirectoryOptions, DirectoryOptionsValidator>(services, configuration?.GetSection("Directory"));
        AddValidatedOptions<RouterOptions, RouterOptionsValidator>(services, configuration?.GetSection("Router"));
        AddValidatedOptions<StoreLimitsOptions, StoreLimitsOptionsValidator>(services, configuration?.GetSection("Limits"));
        AddValidatedOptions<DatabaseOptions, DatabaseOptionsValidator>(services, configuration?.GetSection("Database"));
        AddValidatedOptions<LogWriterOptions, LogWriterOptionsValidator>(services, configuration?.GetSection("LogWriter"));
        AddValidatedOptions<ReplicaKeeperOptions, ReplicaKeeperOptionsValidator>(services, configuration?.GetSection("Keeper"));
        AddValidatedOptions<DrainOptions, DrainOptionsValidator>(services, configuration?.GetSection("Drain"));

        services.AddRaftLogPersistence();
        services.AddSingleton<ShardMapCache>();
        services.AddSingleton<SiloNames>();
        services.AddSingleton<LeaderHints>();
        services.AddSingleton<ReplicaMetrics>();
        services.AddSingleton<RouterMetrics>();
        services.AddSingleton<DirectoryMetrics>();
        services.AddSingleton<LocalReplicas>();
        services.TryAddSingleton<IReplicaFaultHooks>(NoReplicaFaultHooks.Instance);
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, LeadershipHandoff>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ShutdownDrain>();
        services.AddSingleton<ReplicaKeeper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ReplicaKeeper>());
        builder.AddPlacementDirector<ReplicaPlacementStrategy, ReplicaPlacementDirector>();
        // Every error leaving IStore, the replicas and the directory is a typed, serializable StorageException.
        builder.AddIncomingGrainCallFilter<ErrorBoundaryFilter>();
        return builder;
    }

    /// <summary>The one way every options class is registered: bound from its section if given, checked by its validator at start.</summary>
    private static void AddValidatedOptions<TOptions, TValidator>(IServiceCollection services, IConfiguration? section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        var options = services.AddOptions<TOptions>();
        if (section is not null)
        {
            options.Bind(section);
        }

        // TryAddEnumerable: registering the store twice must not report each problem twice.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        options.ValidateOnStart();
    }
}
