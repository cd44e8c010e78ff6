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
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<SchemaInstallerParticipant> _logger;

    public SchemaInstallerParticipant(
        SchemaInstaller installer,
        SchemaState state,
        [FromKeyedServices(PersistenceServiceCollectionExtensions.DataSourceKey)] NpgsqlDataSource dataSource,
        ILogger<SchemaInstallerParticipant> logger)
    {
        _installer = installer;
        _state = state;
        _dataSource = dataSource;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaInstallerParticipant), ServiceLifecycleStage.First, async ct =>
        {
            await _installer.InstallAsync(_dataSource, ct);
            _state.Installed = true;
            LogInstalled();
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is in place")]
    private partial void LogInstalled();
}
