using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Storage.TestKit;
using static Storage.Persistence.Tests.Logs;

namespace Storage.Persistence.Tests;

[Collection(PostgresCollection.Name)]
public sealed class DatabaseUnavailableTests
{
    private const string Password = "Sup3r-Secret-Pw";
    private readonly PostgresFixture _postgres;

    public DatabaseUnavailableTests(PostgresFixture postgres)
    {
        _postgres = postgres;
    }

    /// <summary>A loopback port nobody listens on: connecting is refused at once.</summary>
    private static string DeadServer(out int port)
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        return new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Database = "nowhere_db", Username = "someone", Password = Password, Timeout = 3 }.ConnectionString;
    }

    [Fact]
    public async Task The_installer_names_host_port_and_database_and_the_reason_but_not_the_password()
    {
        var connectionString = DeadServer(out var port);
        var installer = new SchemaInstaller();

        var ex = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => installer.InstallAsync(connectionString));
        Assert.Contains("127.0.0.1", ex.Message);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        Assert.Contains("nowhere_db", ex.Message);
        Assert.Contains("refused", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Password, ex.ToString());
        Assert.Equal(port, ex.Port);

        await Assert.ThrowsAsync<DatabaseUnavailableException>(() => installer.IsInstalledAsync(connectionString));
    }

    [Fact]
    public async Task A_missing_database_is_reported_with_the_server_reason()
    {
        var builder = new NpgsqlConnectionStringBuilder(_postgres.ConnectionString) { Database = "no_such_database" };
        var ex = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => new SchemaInstaller().InstallAsync(builder.ConnectionString));
        Assert.Contains("no_such_database", ex.Message);
        Assert.Contains("does not exist", ex.Message);
    }

    [Fact]
    public async Task The_log_store_and_the_log_writer_fail_clearly_when_the_database_is_down()
    {
        await using var store = new PostgresLogStore(DeadServer(out var port));
        var ex = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => store.AcquireIncarnationAsync("down/1"));
        Assert.Equal(port, ex.Port);
        await Assert.ThrowsAsync<DatabaseUnavailableException>(() => store.LoadAsync("down/1", 0));

        await using var writer = new LogWriter(store, Options.Create(new LogWriterOptions()), NullLogger<LogWriter>.Instance);
        var failed = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => writer.WriteAsync(W("down/1", 1, [E(1)])));
        Assert.DoesNotContain(Password, failed.ToString());
    }
}
