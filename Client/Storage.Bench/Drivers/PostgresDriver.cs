using Npgsql;
using NpgsqlTypes;

namespace Storage.Bench.Drivers;

/// <summary>
/// A single PostgreSQL table, <c>bench_kv(k text primary key, v bytea)</c>: a write is an upsert
/// (<c>INSERT … ON CONFLICT (k) DO UPDATE</c>, one auto-committed statement, durable as the server's
/// <c>synchronous_commit</c> says), a read a select by key. Connections come from Npgsql's pool (its default size
/// unless the connection string sets <c>Maximum Pool Size</c>); statements are auto-prepared. The database in the
/// connection string is created when it does not exist. One server, no replication: the floor under anything
/// that keeps its data in PostgreSQL.
/// </summary>
public sealed class PostgresDriver(string connectionString) : IBenchDriver
{
    private const string Upsert = "INSERT INTO bench_kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v";
    private const string Select = "SELECT v FROM bench_kv WHERE k = $1";
    private NpgsqlDataSource? _dataSource;

    public string Name => "postgres";

    public string ReadSemantics => "select by key (single server)";

    public async Task PrepareAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!builder.ContainsKey("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 8;
        }

        await EnsureDatabaseAsync(builder, ct).ConfigureAwait(false);
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var create = _dataSource.CreateCommand("CREATE TABLE IF NOT EXISTS bench_kv (k text PRIMARY KEY, v bytea NOT NULL)");
        await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask ReadAsync(string key, CancellationToken ct)
    {
        await using var command = Source.CreateCommand(Select);
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = key });
        await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask WriteAsync(string key, byte[] value, CancellationToken ct)
    {
        await using var command = Source.CreateCommand(Upsert);
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = value });
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private NpgsqlDataSource Source => _dataSource ?? throw new InvalidOperationException("PrepareAsync was not called");

    /// <summary>Creates the connection string's database through the <c>postgres</c> database when it does not exist.</summary>
    private static async Task EnsureDatabaseAsync(NpgsqlConnectionStringBuilder builder, CancellationToken ct)
    {
        try
        {
            await using var probe = new NpgsqlConnection(builder.ConnectionString);
            await probe.OpenAsync(ct).ConfigureAwait(false);
            return;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName && !string.IsNullOrEmpty(builder.Database))
        {
            // Falls through: create it.
        }

        var admin = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        var name = builder.Database!.Replace("\"", "\"\"", StringComparison.Ordinal);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        try
        {
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Created meanwhile by someone else: fine.
        }

        NpgsqlConnection.ClearAllPools();
    }
}
