using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Storage.Persistence;

/// <summary>DI wiring of the Raft log persistence for a silo.</summary>
public static class PersistenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SchemaInstaller"/>, a <see cref="PostgresLogStore"/> as <see cref="IRaftLogStore"/>
    /// (with its own pooled data source for <paramref name="connectionString"/>) and the silo-wide
    /// <see cref="LogWriter"/>. The container disposes the writer — draining its queue — when the host is
    /// disposed, which is after Orleans has stopped and the replicas are gone.
    /// </summary>
    public static IServiceCollection AddRaftLogPersistence(
        this IServiceCollection services,
        string connectionString,
        Action<LogWriterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.AddOptions<LogWriterOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<SchemaInstaller>();
        services.TryAddSingleton<IRaftLogStore>(sp => new PostgresLogStore(
            PostgresConnections.Tune(new NpgsqlDataSourceBuilder(connectionString)).UseLoggerFactory(sp.GetService<ILoggerFactory>()).Build(),
            sp.GetService<ILogger<PostgresLogStore>>(),
            ownsDataSource: true));
        services.TryAddSingleton<LogWriter>();
        return services;
    }
}
