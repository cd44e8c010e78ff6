using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Storage.Persistence;

/// <summary>
/// Installs the project's PostgreSQL schema (infra/sql, embedded in this assembly): the Orleans ADO.NET
/// clustering and grain-persistence tables and queries, and the Raft log tables.
/// </summary>
/// <remarks>
/// All scripts run in file-name order in one transaction that first takes a transaction-scoped advisory
/// lock, so several silos starting at once install the schema exactly once and none sees half of it.
/// Each applied script is recorded with its SHA-256 in <c>storage_schema_script</c>; a later install
/// skips scripts whose text is unchanged (re-running DDL would take table locks on a live cluster) and
/// re-applies changed ones. The scripts themselves are idempotent, so <c>reapplyAll</c> is always safe.
/// </remarks>
public sealed partial class SchemaInstaller
{
    /// <summary>The advisory lock key every installer takes ("Storage1" in ASCII).</summary>
    public const long AdvisoryLockKey = 0x53746F7261676531;

    private const string BookkeepingTable = "storage_schema_script";

    private readonly ILogger _logger;

    public SchemaInstaller(ILogger<SchemaInstaller>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Applies every script that is new or changed since the last install.</summary>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot be reached.</exception>
    /// <exception cref="SchemaInstallException">A script failed; nothing of this install was kept.</exception>
    public Task<IReadOnlyList<string>> InstallAsync(NpgsqlDataSource dataSource, CancellationToken ct = default) =>
        InstallAsync(dataSource, reapplyAll: false, ct);

    /// <summary>Applies the scripts through a short-lived data source for <paramref name="connectionString"/> (tools and tests).</summary>
    public Task<IReadOnlyList<string>> InstallAsync(string connectionString, CancellationToken ct = default) =>
        InstallAsync(connectionString, reapplyAll: false, ct);

    /// <inheritdoc cref="InstallAsync(string, CancellationToken)"/>
    public async Task<IReadOnlyList<string>> InstallAsync(string connectionString, bool reapplyAll, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await InstallAsync(dataSource, reapplyAll, ct).ConfigureAwait(false);
    }

    /// <summary>Applies the scripts; with <paramref name="reapplyAll"/> every script runs again even if unchanged.</summary>
    /// <returns>The names of the scripts that ran, in order.</returns>
    public async Task<IReadOnlyList<string>> InstallAsync(NpgsqlDataSource dataSource, bool reapplyAll, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var scripts = SchemaScript.All;

        await using var connection = await PostgresConnections.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, tx))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
            // No timeout: waiting for another silo's install is the point.
            lockCommand.CommandTimeout = 0;
            await lockCommand.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, tx, $"""
            CREATE TABLE IF NOT EXISTS {BookkeepingTable}
            (
                script     text        NOT NULL PRIMARY KEY,
                sha256     text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, ct).ConfigureAwait(false);

        var recorded = await ReadRecordedAsync(connection, tx, ct).ConfigureAwait(false);
        var applied = new List<string>();
        foreach (var script in scripts)
        {
            if (!reapplyAll && recorded.TryGetValue(script.Name, out var hash) && hash == script.Sha256)
            {
                continue;
            }

            LogApplying(script.Name, script.Sha256[..12]);
            try
            {
                await ExecuteAsync(connection, tx, script.Sql, ct).ConfigureAwait(false);
            }
            catch (PostgresException ex)
            {
                throw new SchemaInstallException(script.Name, ex);
            }

            await using var record = new NpgsqlCommand(
                $"""
                INSERT INTO {BookkeepingTable} (script, sha256, applied_at) VALUES ($1, $2, now())
                ON CONFLICT (script) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = EXCLUDED.applied_at
                """,
                connection,
                tx);
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = script.Name });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = script.Sha256 });
            await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            applied.Add(script.Name);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        if (applied.Count == 0)
        {
            LogUpToDate(scripts.Count);
        }
        else
        {
            LogInstalled(applied.Count, scripts.Count);
        }

        return applied;
    }

    /// <summary>
    /// True when every script of this build has been applied in its current version: the readiness
    /// check of a silo. False when the schema is missing or older.
    /// </summary>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot be reached.</exception>
    public async Task<bool> IsInstalledAsync(string connectionString, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await IsInstalledAsync(dataSource, ct).ConfigureAwait(false);
    }

    /// <inheritdoc cref="IsInstalledAsync(string, CancellationToken)"/>
    public async Task<bool> IsInstalledAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await PostgresConnections.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand($"SELECT to_regclass('{BookkeepingTable}') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                return false;
            }
        }

        var recorded = await ReadRecordedAsync(connection, null, ct).ConfigureAwait(false);
        return SchemaScript.All.All(s => recorded.TryGetValue(s.Name, out var hash) && hash == s.Sha256);
    }

    private static async Task<Dictionary<string, string>> ReadRecordedAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, CancellationToken ct)
    {
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand($"SELECT script, sha256 FROM {BookkeepingTable}", connection, tx);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            recorded[reader.GetString(0)] = reader.GetString(1);
        }

        return recorded;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying schema script {Script} (sha256 {Hash}…)")]
    private partial void LogApplying(string script, string hash);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema installed: applied {Applied} of {Total} scripts")]
    private partial void LogInstalled(int applied, int total);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Schema up to date ({Total} scripts)")]
    private partial void LogUpToDate(int total);
}
