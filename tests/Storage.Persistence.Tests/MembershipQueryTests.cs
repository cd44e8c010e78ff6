using System.Data;
using Npgsql;
using Storage.TestKit;

namespace Storage.Persistence.Tests;

/// <summary>
/// The stored clustering statements run directly, bound the way Orleans binds them (named parameters,
/// DbType.String / Int32 / DateTime in UTC), for the paths a healthy two-silo cluster never takes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MembershipQueryTests : IAsyncLifetime
{
    private const string Cluster = "query-tests";
    private readonly PostgresFixture _postgres;
    private string _db = string.Empty;

    public MembershipQueryTests(PostgresFixture postgres)
    {
        _postgres = postgres;
    }

    public async Task InitializeAsync()
    {
        _db = await _postgres.CreateDatabaseAsync("membership");
        Assert.Equal(1, await RunScalarAsync("InsertMembershipVersionKey", ("DeploymentId", Cluster)));
        Assert.Equal(0, await RunScalarAsync("InsertMembershipVersionKey", ("DeploymentId", Cluster)));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_bulk_cleanup_removes_old_dead_rows_only()
    {
        var old = DateTime.UtcNow.AddHours(-3);
        await InsertAsync(port: 1, status: 6, old);   // dead and old: goes
        await InsertAsync(port: 2, status: 6, DateTime.UtcNow);   // dead but recent: stays
        await InsertAsync(port: 3, status: 3, old);   // active, silent for long: never deleted by cleanup
        await InsertAsync(port: 4, status: 1, old);   // joining: stays

        await RunAsync("CleanupDefunctSiloEntriesKey", ("DeploymentId", Cluster), ("IAmAliveTime", DateTime.UtcNow.AddHours(-1)));

        Assert.Equal([2, 3, 4], await PortsAsync());
    }

    [Fact]
    public async Task The_single_row_cleanup_deletes_nothing_that_changed_since_it_was_read()
    {
        var old = DateTime.UtcNow.AddHours(-3);
        await InsertAsync(port: 11, status: 6, old);
        var (start, alive) = await TimesAsync(11);

        // The row got a new heartbeat after Orleans read it: the compare-and-delete misses.
        await RunAsync("UpdateIAmAlivetimeKey", ("DeploymentId", Cluster), ("Address", "10.0.0.1"), ("Port", 11), ("Generation", 1), ("IAmAliveTime", DateTime.UtcNow));
        await RunAsync("CleanupDefunctSiloEntryKey", Row(11, start, alive, null));
        Assert.Contains(11, await PortsAsync());

        // Read again, unchanged: deleted.
        (start, alive) = await TimesAsync(11);
        await RunAsync("CleanupDefunctSiloEntryKey", Row(11, start, alive, null));
        Assert.DoesNotContain(11, await PortsAsync());
    }

    [Fact]
    public async Task Updates_need_the_current_table_version_and_a_heartbeat_does_not_move_it()
    {
        await InsertAsync(port: 21, status: 1, DateTime.UtcNow);
        var version = await VersionAsync();
        await RunAsync("UpdateIAmAlivetimeKey", ("DeploymentId", Cluster), ("Address", "10.0.0.1"), ("Port", 21), ("Generation", 1), ("IAmAliveTime", DateTime.UtcNow));
        Assert.Equal(version, await VersionAsync());

        (string, object?)[] update(int v) =>
            [("DeploymentId", Cluster), ("Address", "10.0.0.1"), ("Port", 21), ("Generation", 1), ("Status", 3), ("SuspectTimes", null), ("IAmAliveTime", DateTime.UtcNow), ("Version", v)];
        Assert.Equal(0, await RunScalarAsync("UpdateMembershipKey", update(version - 1)));
        Assert.Equal(version, await VersionAsync());
        Assert.Equal(1, await RunScalarAsync("UpdateMembershipKey", update(version)));
        Assert.Equal(version + 1, await VersionAsync());

        // No such row: refused, and the version stays.
        Assert.Equal(0, await RunScalarAsync("UpdateMembershipKey", update(version + 1).Select(p => p.Item1 == "Port" ? (p.Item1, (object?)999) : p).ToArray()));
        Assert.Equal(version + 1, await VersionAsync());
    }

    private static (string, object?)[] Row(int port, DateTime start, DateTime alive, string? suspects) =>
        [("DeploymentId", Cluster), ("Address", "10.0.0.1"), ("Port", port), ("Generation", 1), ("SuspectTimes", suspects), ("StartTime", start), ("IAmAliveTime", alive)];

    private async Task InsertAsync(int port, int status, DateTime time)
    {
        var version = await VersionAsync();
        Assert.Equal(1, await RunScalarAsync(
            "InsertMembershipKey",
            ("DeploymentId", Cluster), ("Address", "10.0.0.1"), ("Port", port), ("Generation", 1), ("SiloName", $"s{port}"), ("HostName", "h"),
            ("Status", status), ("ProxyPort", 0), ("StartTime", time), ("IAmAliveTime", time), ("Version", version)));
    }

    private async Task<int> VersionAsync()
    {
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT Version FROM OrleansMembershipVersionTable WHERE DeploymentId = '{Cluster}'", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<int>> PortsAsync()
    {
        var ports = new List<int>();
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT Port FROM OrleansMembershipTable WHERE DeploymentId = '{Cluster}' ORDER BY Port", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ports.Add(reader.GetInt32(0));
        }

        return ports;
    }

    private async Task<(DateTime Start, DateTime Alive)> TimesAsync(int port)
    {
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT StartTime, IAmAliveTime FROM OrleansMembershipTable WHERE DeploymentId = '{Cluster}' AND Port = {port}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetDateTime(0), reader.GetDateTime(1));
    }

    private async Task<int> RunScalarAsync(string key, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using var command = await CommandAsync(connection, key, parameters);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task RunAsync(string key, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using var command = await CommandAsync(connection, key, parameters);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The stored statement with parameters typed as Orleans' DbExtensions.AddParameter types them.</summary>
    private static async Task<NpgsqlCommand> CommandAsync(NpgsqlConnection connection, string key, (string Name, object? Value)[] parameters)
    {
        string text;
        await using (var lookup = new NpgsqlCommand("SELECT QueryText FROM OrleansQuery WHERE QueryKey = $1", connection))
        {
            lookup.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            text = (string)(await lookup.ExecuteScalarAsync())!;
        }

        var command = new NpgsqlCommand(text, connection);
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            p.DbType = value switch
            {
                int => DbType.Int32,
                DateTime => DbType.DateTime,
                _ => DbType.String,
            };
            command.Parameters.Add(p);
        }

        return command;
    }
}
