using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storage.Persistence;

namespace Storage.Silo.Hosting;

/// <summary>Applies the schema before anything in the silo touches the database (membership included).</summary>
internal sealed partial class SchemaInstallerParticipant : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly SchemaInstaller _installer;
    private readonly SchemaState _state;
    private readonly IServiceProvider _services;
    private readonly ILogger<SchemaInstallerParticipant> _logger;

    public SchemaInstallerParticipant(
        SchemaInstaller installer,
        SchemaState state,
        IServiceProvider services,
        ILogger<SchemaInstallerParticipant> logger)
    {
        _installer = installer;
        _state = state;
        _services = services;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaInstallerParticipant), ServiceLifecycleStage.First, async ct =>
        {
            // Resolved when the stage runs, not when the silo is built: building the data source reads the options,
            // and reading them before the host's start-up validation would report only the first invalid class.
            var dataSource = _services.GetRequiredKeyedService<NpgsqlDataSource>(PersistenceServiceCollectionExtensions.DataSourceKey);
            await _installer.InstallAsync(dataSource, ct);
            _state.Installed = true;
            LogInstalled();
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is in place")]
    private partial void LogInstalled();
}
