using Microsoft.Extensions.Logging;
using Storage.Persistence;

namespace Storage.Silo.Hosting;

/// <summary>Applies the schema before anything in the silo touches the database (membership included).</summary>
internal sealed partial class SchemaInstallerParticipant : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly SchemaInstaller installer;
    private readonly SchemaState state;
    private readonly string connectionString;
    private readonly ILogger<SchemaInstallerParticipant> logger;

    public SchemaInstallerParticipant(SchemaInstaller installer, SchemaState state, StorageConnection connection, ILogger<SchemaInstallerParticipant> logger)
    {
        this.installer = installer;
        this.state = state;
        connectionString = connection.ConnectionString;
        this.logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaInstallerParticipant), ServiceLifecycleStage.First, async ct =>
        {
            await installer.InstallAsync(connectionString, ct);
            state.Installed = true;
            LogInstalled();
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is in place")]
    private partial void LogInstalled();
}

/// <summary>Whether this silo has applied the schema (for the readiness probe).</summary>
public sealed class SchemaState
{
    public volatile bool Installed;
}

/// <summary>The PostgreSQL connection string the silo uses.</summary>
public sealed record StorageConnection(string ConnectionString);
