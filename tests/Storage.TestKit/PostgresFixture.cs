using System.Globalization;
using Storage.Development;
using Storage.Persistence;
using Xunit;

namespace Storage.TestKit;

/// <summary>
/// A throwaway PostgreSQL server for a test run: started from the machine's binaries in a fresh temp folder
/// on a free loopback port, non-durable for speed, with the project schema installed in
/// <see cref="ConnectionString"/>'s database. Use it as an xunit class or collection fixture; give each test
/// class its own database with <see cref="CreateDatabaseAsync"/>. Disposal stops the server and deletes the folder.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private EmbeddedPostgres? _server;
    private int _databases;

    /// <summary>The temp folder holding the data folder and the server log.</summary>
    public string RootDirectory { get; } = Path.Combine(Path.GetTempPath(), "storage-pg-" + Guid.NewGuid().ToString("N")[..12]);

    public EmbeddedPostgres Server => _server ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>A database with the schema installed, shared by everyone using this fixture.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(RootDirectory);
        _server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
        {
            DataDirectory = Path.Combine(RootDirectory, "data"),
            Database = "storage_tests",
            Durable = false,
            Settings = { ["max_connections"] = "300" },
        }).ConfigureAwait(false);
        ConnectionString = _server.ConnectionString;
        await new SchemaInstaller().InstallAsync(ConnectionString).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a new, empty database named after <paramref name="prefix"/> (with the schema unless
    /// <paramref name="installSchema"/> is false) and returns its connection string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t", bool installSchema = true)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{Sanitize(prefix)}_{Interlocked.Increment(ref _databases)}");
        var connectionString = await Server.CreateDatabaseAsync(name).ConfigureAwait(false);
        if (installSchema)
        {
            await new SchemaInstaller().InstallAsync(connectionString).ConfigureAwait(false);
        }

        return connectionString;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            System.IO.Directory.Delete(RootDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is not worth failing the run for.
        }
    }

    private static string Sanitize(string prefix)
    {
        var chars = prefix.ToLowerInvariant().Where(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_').Take(40).ToArray();
        return chars.Length == 0 || char.IsDigit(chars[0]) ? "t" + new string(chars) : new string(chars);
    }
}
