using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Storage.Development.Tests;

/// <summary>The embedded server itself: these start their own servers in their own temp folders.</summary>
public sealed class EmbeddedPostgresTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "storage-pg-launcher-" + Guid.NewGuid().ToString("N")[..8]);

    public EmbeddedPostgresTests()
    {
        System.IO.Directory.CreateDirectory(_root);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort.
        }
    }

    [Fact]
    public async Task Initialises_a_folder_and_keeps_the_data_across_a_restart()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = Path.Combine(_root, "data"), Database = "kept", Durable = false };
        await using (var first = await EmbeddedPostgres.StartAsync(options))
        {
            Assert.True(first.OwnsServer);
            Assert.True(File.Exists(Path.Combine(_root, "data.log")), "server log next to the data folder");
            await ExecuteAsync(first.ConnectionString, "CREATE TABLE survivor (v text); INSERT INTO survivor VALUES ('still here')");
        }

        await using var second = await EmbeddedPostgres.StartAsync(options);
        await using var connection = new NpgsqlConnection(second.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT v FROM survivor", connection);
        Assert.Equal("still here", await command.ExecuteScalarAsync());
        // Loopback only, no socket file, trust auth.
        await using var settings = new NpgsqlCommand("SELECT current_setting('listen_addresses') || '|' || current_setting('unix_socket_directories')", connection);
        Assert.Equal("127.0.0.1|", await settings.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_second_start_on_a_running_folder_attaches_and_leaves_the_server_running()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = Path.Combine(_root, "shared"), Database = "shared", Durable = false };
        await using var owner = await EmbeddedPostgres.StartAsync(options);
        await using (var sibling = await EmbeddedPostgres.StartAsync(options))
        {
            Assert.False(sibling.OwnsServer);
            Assert.Equal(owner.Port, sibling.Port);
        }

        // The sibling's dispose did not stop the owner's server.
        await ExecuteAsync(owner.ConnectionString, "SELECT 1");
    }

    [Fact]
    public async Task A_taken_port_is_reported_as_such()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var ex = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = Path.Combine(_root, "taken"), Port = port, Durable = false }));
        Assert.Contains($"Port {port}", ex.Message);
        Assert.Contains("already in use", ex.Message);
    }

    [Fact]
    public async Task Missing_binaries_say_to_install_postgresql()
    {
        var empty = System.IO.Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var ex = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.FindBinDirectoryAsync(null, null, empty, Path.Combine(empty, "none"), default));
        Assert.Contains("apt-get install postgresql", ex.Message);

        var wrong = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = Path.Combine(_root, "nobin"), BinDirectory = empty }));
        Assert.Contains("does not contain the PostgreSQL server binaries", wrong.Message);
    }

    [Fact]
    public async Task Finds_the_installed_binaries()
    {
        var dir = await EmbeddedPostgres.FindBinDirectoryAsync();
        Assert.True(File.Exists(Path.Combine(dir, "pg_ctl")));
        Assert.True(File.Exists(Path.Combine(dir, "initdb")));
    }

    [Fact]
    public async Task Refuses_a_non_empty_folder_that_is_not_a_data_folder()
    {
        var dir = System.IO.Directory.CreateDirectory(Path.Combine(_root, "junk")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "notes.txt"), "mine");
        var ex = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = dir }));
        Assert.Contains("not empty", ex.Message);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
