using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Storage.Persistence;

/// <summary>DI wiring of the Raft log persistence for a silo.</summary>
public static class PersistenceServiceCollectionExtensions
{
    /// <summary>
    /// The key of the silo's one <see cref="NpgsqlDataSource"/> (a keyed singleton, so that an application's own
    /// data source in the same container is left alone).
    /// </summary>
    public const string DataSourceKey = "Storage.Database";

    /// <summary>
    /// Registers the silo's one pooled <see cref="NpgsqlDataSource"/> (keyed <see cref="DataSourceKey"/>, for
    /// <see cref="StorageOptions.ConnectionString"/>, bounded by <see cref="DatabaseOptions.MaxPoolSize"/>),
    /// <see cref="SchemaInstaller"/>, a <see cref="PostgresLogStore"/> on that data source as
    /// <see cref="IRaftLogStore"/> and the silo-wide <see cref="LogWriter"/>. The container disposes the writer —
    /// draining its queue — when the host is disposed, which is after Orleans has stopped and the replicas are
    /// gone, and the data source after the writer (it was created first).
    /// </summary>
    public static IServiceCollection AddRaftLogPersistence(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<StorageOptions>();
        services.AddOptions<DatabaseOptions>();
        services.AddOptions<LogWriterOptions>();
        services.TryAddKeyedSingleton(DataSourceKey, (sp, _) => PostgresConnections.CreateDataSource(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString
                ?? throw new InvalidOperationException("Storage:ConnectionString is not configured."),
            sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.MaxPoolSize,
            sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<SchemaInstaller>();
        services.TryAddSingleton<IRaftLogStore>(sp => new PostgresLogStore(
            sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey),
            sp.GetService<ILogger<PostgresLogStore>>()));
        services.TryAddSingleton<LogWriter>();
        return services;
    }
}
