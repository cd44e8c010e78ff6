using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Storage.Development;

/// <summary>
/// A PostgreSQL server run from the machine's own binaries under a data folder: the local default when no
/// connection string is configured, and the throwaway server of the tests.
/// </summary>
/// <remarks>
/// Listens on 127.0.0.1 only, with trust authentication (initdb -A trust; its pg_hba.conf admits loopback
/// and the local socket only, and the socket is switched off). PostgreSQL refuses to run as root, so when
/// this process is root every server command runs as the OS user "postgres" through <c>runuser</c>, and
/// the data folder is handed to that user. Starting is serialised per data folder by a lock file, and a
/// server already running on the folder (left by a crashed host, or started by a sibling process) is
/// attached to rather than started twice; such a server is not stopped on dispose.
/// </remarks>
public sealed partial class EmbeddedPostgres : IAsyncDisposable
{
    /// <summary>The database superuser initdb creates, used in every connection string.</summary>
    public const string SuperUser = "postgres";

    /// <summary>The OS account servers run as when this process is root.</summary>
    public const string ServiceAccount = "postgres";

    private static readonly string[] RequiredBinaries = ["initdb", "pg_ctl", "postgres"];

    private readonly string? _runAs;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _handedOut = new(StringComparer.Ordinal);
    private int _stopped;

    private EmbeddedPostgres(string binDirectory, string dataDirectory, string logFile, int port, string database, bool ownsServer, string? runAs, TimeSpan timeout, ILogger logger)
    {
        BinDirectory = binDirectory;
        DataDirectory = dataDirectory;
        LogFile = logFile;
        Port = port;
        Database = database;
        OwnsServer = ownsServer;
        _runAs = runAs;
        _timeout = timeout;
        _logger = logger;
    }

    public string BinDirectory { get; }

    public string DataDirectory { get; }

    /// <summary>The server's own log (startup failures, slow queries, crashes).</summary>
    public string LogFile { get; }

    public int Port { get; }

    /// <summary>The database <see cref="ConnectionString"/> points at.</summary>
    public string Database { get; }

    /// <summary>False when an already running server was attached to; then dispose leaves it running.</summary>
    public bool OwnsServer { get; }

    public string ConnectionString => GetConnectionString(Database);

    public string GetConnectionString(string database)
    {
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = Port,
            Username = SuperUser,
            Database = database,
        }.ConnectionString;
        _handedOut.TryAdd(connectionString, 0);
        return connectionString;
    }

    /// <summary>Initialises the data folder if needed, starts (or attaches to) the server and creates the database.</summary>
    /// <exception cref="EmbeddedPostgresException">Binaries missing, port taken, folder unusable, or the server failed to start.</exception>
    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, ILogger? logger = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataDirectory);
        ValidateDatabaseName(options.Database);
        if (options.Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Port, "Port must be 0 (any free port) or 1-65535.");
        }

        logger ??= NullLogger.Instance;
        var dataDirectory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.DataDirectory));
        var parent = Path.GetDirectoryName(dataDirectory)
            ?? throw new EmbeddedPostgresException($"The data folder {dataDirectory} needs a parent folder for the server log.");
        var name = Path.GetFileName(dataDirectory);
        System.IO.Directory.CreateDirectory(parent);
        var logFile = Path.GetFullPath(options.LogFile ?? Path.Combine(parent, name + ".log"));

        await using var startLock = await LockAsync(Path.Combine(parent, name + ".lock"), options.Timeout, ct).ConfigureAwait(false);

        var runAs = Environment.IsPrivilegedProcess ? ServiceAccount : null;
        if (runAs is not null)
        {
            await EnsureAccountExistsAsync(runAs, ct).ConfigureAwait(false);
        }

        var dataMajor = ReadDataMajorVersion(dataDirectory);
        var binDirectory = await FindBinDirectoryAsync(options.BinDirectory, dataMajor, ct).ConfigureAwait(false);
        var pgCtl = Path.Combine(binDirectory, "pg_ctl");

        if (dataMajor is null && options.Port != 0)
        {
            // Nothing can be running on a folder not yet initialised: a taken port fails before the slow initdb.
            EnsurePortFree(options.Port);
        }

        if (dataMajor is null)
        {
            if (System.IO.Directory.Exists(dataDirectory) && System.IO.Directory.EnumerateFileSystemEntries(dataDirectory).Any())
            {
                throw new EmbeddedPostgresException(
                    $"{dataDirectory} is not empty and holds no PostgreSQL data (no PG_VERSION); point DataDirectory at an empty or PostgreSQL folder.");
            }

            System.IO.Directory.CreateDirectory(dataDirectory);
        }

        if (!File.Exists(logFile))
        {
            await File.WriteAllTextAsync(logFile, string.Empty, ct).ConfigureAwait(false);
        }

        if (runAs is not null)
        {
            await HandOverAsync(runAs, dataDirectory, logFile, ct).ConfigureAwait(false);
        }

        if (dataMajor is null)
        {
            LogInitialising(logger, dataDirectory, binDirectory);
            List<string> initdbArgs = ["-D", dataDirectory, "-U", SuperUser, "-A", "trust", "-E", "UTF8", "--locale=C"];
            if (!options.Durable)
            {
                initdbArgs.Add("--no-sync");
            }

            var init = await RunAsync(runAs, Path.Combine(binDirectory, "initdb"), initdbArgs, parent, options.Timeout, ct).ConfigureAwait(false);
            if (init.ExitCode != 0)
            {
                throw new EmbeddedPostgresException($"initdb failed for {dataDirectory} (exit {init.ExitCode}): {init.Output}");
            }
        }

        int port;
        var ownsServer = true;
        var status = await RunAsync(runAs, pgCtl, ["status", "-D", dataDirectory], parent, options.Timeout, ct).ConfigureAwait(false);
        if (status.ExitCode == 0 && ReadRunningPort(dataDirectory) is { } runningPort)
        {
            port = runningPort;
            ownsServer = false;
            LogAttaching(logger, dataDirectory, port);
        }
        else
        {
            port = options.Port == 0 ? FreePorts.One() : EnsurePortFree(options.Port);
            var serverArgs = new List<string> { "-p", port.ToString(CultureInfo.InvariantCulture), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" };
            if (!options.Durable)
            {
                serverArgs.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
            }

            foreach (var (key, value) in options.Settings)
            {
                serverArgs.AddRange(["-c", $"{key}={value}"]);
            }

            var timeoutSeconds = Math.Max(1, (int)options.Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            // pg_ctl hands -o to /bin/sh, hence the quoting.
            var start = await RunAsync(
                runAs,
                pgCtl,
                ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", timeoutSeconds, "-s", "-o", string.Join(' ', serverArgs.Select(ShellQuote))],
                parent,
                options.Timeout + TimeSpan.FromSeconds(10),
                ct).ConfigureAwait(false);
            if (start.ExitCode != 0)
            {
                var tail = ReadTail(logFile, 20);
                if (tail.Contains("could not bind", StringComparison.OrdinalIgnoreCase) || tail.Contains("already in use", StringComparison.OrdinalIgnoreCase))
                {
                    throw new EmbeddedPostgresException($"PostgreSQL could not listen on 127.0.0.1:{port}: the port is already in use. Choose another port, or 0 for a free one. Server log {logFile}:\n{tail}");
                }

                throw new EmbeddedPostgresException($"PostgreSQL failed to start from {dataDirectory} (pg_ctl exit {start.ExitCode}: {start.Output}). Server log {logFile}:\n{tail}");
            }

            LogStarted(logger, port, dataDirectory, logFile);
        }

        var server = new EmbeddedPostgres(binDirectory, dataDirectory, logFile, port, options.Database, ownsServer, runAs, options.Timeout, logger);
        try
        {
            await server.WaitForConnectionsAsync(ct).ConfigureAwait(false);
            await server.CreateDatabaseAsync(options.Database, ct).ConfigureAwait(false);
        }
        catch
        {
            await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return server;
    }

    /// <summary>Creates <paramref name="database"/> unless it exists; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string database, CancellationToken ct = default)
    {
        ValidateDatabaseName(database);
        await using var connection = new NpgsqlConnection(GetConnectionString("postgres"));
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
            {
                return GetConnectionString(database);
            }
        }

        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\" ENCODING 'UTF8'", connection);
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Created concurrently by another process: same result.
        }

        return GetConnectionString(database);
    }

    /// <summary>Drops <paramref name="database"/> if it exists, closing its connections.</summary>
    public async Task DropDatabaseAsync(string database, CancellationToken ct = default)
    {
        ValidateDatabaseName(database);
        await using var connection = new NpgsqlConnection(GetConnectionString("postgres"));
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stops the server (pg_ctl stop -m fast) if this instance started it.</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0 || !OwnsServer)
        {
            return;
        }

        // Pooled connections to this server die with it; drop them now rather than on their next use.
        // Only this server's pools: others in the process (another server, a real database) are left alone.
        foreach (var connectionString in _handedOut.Keys)
        {
            using var connection = new NpgsqlConnection(connectionString);
            NpgsqlConnection.ClearPool(connection);
        }
        var stop = await RunAsync(
            _runAs,
            Path.Combine(BinDirectory, "pg_ctl"),
            ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-s", "-t", Math.Max(1, (int)_timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)],
            Path.GetDirectoryName(DataDirectory)!,
            _timeout + TimeSpan.FromSeconds(10),
            ct).ConfigureAwait(false);
        if (stop.ExitCode != 0)
        {
            throw new EmbeddedPostgresException($"pg_ctl stop failed for {DataDirectory} (exit {stop.ExitCode}): {stop.Output}");
        }

        LogStopped(Port, DataDirectory);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    /// <summary>
    /// The folder holding initdb, pg_ctl and postgres: <paramref name="preferred"/> if given, else the first
    /// PATH entry that has pg_ctl (symlinks resolved), else the newest /usr/lib/postgresql/*/bin. With
    /// <paramref name="major"/> (the version of an existing data folder) a matching installation wins.
    /// </summary>
    public static Task<string> FindBinDirectoryAsync(string? preferred = null, int? major = null, CancellationToken ct = default) =>
        FindBinDirectoryAsync(preferred, major, Environment.GetEnvironmentVariable("PATH"), "/usr/lib/postgresql", ct);

    /// <summary>The search with explicit roots, so that tests can search an empty world.</summary>
    internal static async Task<string> FindBinDirectoryAsync(string? preferred, int? major, string? searchPath, string debianRoot, CancellationToken ct)
    {
        if (preferred is not null)
        {
            var full = Path.GetFullPath(preferred);
            if (!HasBinaries(full))
            {
                throw new EmbeddedPostgresException($"{full} does not contain the PostgreSQL server binaries ({string.Join(", ", RequiredBinaries)}).");
            }

            return full;
        }

        var candidates = new List<string>();
        foreach (var dir in (searchPath ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var pgCtl = Path.Combine(dir, "pg_ctl");
            if (File.Exists(pgCtl))
            {
                // Debian links /usr/local/bin/pg_ctl into /usr/lib/postgresql/N/bin; the real folder has the rest.
                var target = new FileInfo(pgCtl).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? pgCtl;
                candidates.Add(Path.GetDirectoryName(target)!);
            }
        }

        if (System.IO.Directory.Exists(debianRoot))
        {
            candidates.AddRange(System.IO.Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .OrderByDescending(x => x.Version)
                .Select(x => x.Dir));
        }

        var usable = candidates.Distinct(StringComparer.Ordinal).Where(HasBinaries).ToList();
        if (usable.Count == 0)
        {
            throw new EmbeddedPostgresException(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under /usr/lib/postgresql/*/bin. "
                + "Install PostgreSQL (on Debian/Ubuntu: apt-get install postgresql), or configure a connection string to an existing server.");
        }

        if (major is { } wanted)
        {
            foreach (var dir in usable)
            {
                if (await ReadMajorVersionAsync(dir, ct).ConfigureAwait(false) == wanted)
                {
                    return dir;
                }
            }

            throw new EmbeddedPostgresException(
                $"The data folder was created by PostgreSQL {wanted}, but only other versions are installed ({string.Join(", ", usable)}). "
                + $"Install PostgreSQL {wanted}, or move the data folder away to start afresh.");
        }

        return usable[0];
    }

    private async Task WaitForConnectionsAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + _timeout;
        var connectionString = new NpgsqlConnectionStringBuilder(GetConnectionString("postgres")) { Pooling = false, Timeout = 5 }.ConnectionString;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                throw new EmbeddedPostgresException($"PostgreSQL on 127.0.0.1:{Port} did not accept connections within {_timeout.TotalSeconds:0} s: {ex.Message}. Server log {LogFile}:\n{ReadTail(LogFile, 20)}", ex);
            }
        }
    }

    private static void ValidateDatabaseName(string database)
    {
        // Names are spliced into CREATE/DROP DATABASE, so only plain identifiers are accepted.
        if (string.IsNullOrEmpty(database) || database.Length > 63 || !DatabaseName().IsMatch(database))
        {
            throw new ArgumentException($"'{database}' is not a valid database name here (letters, digits, underscore; at most 63; not starting with a digit).", nameof(database));
        }
    }

    private static bool HasBinaries(string dir) => RequiredBinaries.All(b => File.Exists(Path.Combine(dir, b)));

    private static int? ReadDataMajorVersion(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, "PG_VERSION");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : null;
    }

    private static async Task<int?> ReadMajorVersionAsync(string binDirectory, CancellationToken ct)
    {
        var version = await RunAsync(null, Path.Combine(binDirectory, "pg_ctl"), ["--version"], "/", TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        var match = VersionPattern().Match(version.Output);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>The port of the server running on the folder, from line 4 of postmaster.pid.</summary>
    private static int? ReadRunningPort(string dataDirectory)
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(dataDirectory, "postmaster.pid"));
            return lines.Length > 3 && int.TryParse(lines[3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int EnsurePortFree(int port) =>
        FreePorts.IsFree(port)
            ? port
            : throw new EmbeddedPostgresException($"Port {port} on 127.0.0.1 is already in use; choose another port, or 0 for a free one.");

    private static async Task EnsureAccountExistsAsync(string account, CancellationToken ct)
    {
        var id = await RunAsync(null, "id", ["-u", account], "/", TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        if (id.ExitCode != 0)
        {
            throw new EmbeddedPostgresException(
                $"This process runs as root and PostgreSQL refuses to run as root, but there is no '{account}' OS user to run it as. "
                + "Install the postgresql package (it creates the user), create the user, or run as a non-root user.");
        }
    }

    /// <summary>Gives the data folder and the log to the service account and checks it can reach them.</summary>
    private static async Task HandOverAsync(string account, string dataDirectory, string logFile, CancellationToken ct)
    {
        foreach (var path in new[] { dataDirectory, logFile })
        {
            var chown = await RunAsync(null, "chown", ["-R", $"{account}:{account}", path], "/", TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
            if (chown.ExitCode != 0)
            {
                throw new EmbeddedPostgresException($"Could not hand {path} to the '{account}' user: {chown.Output}");
            }
        }

        var access = await RunAsync(account, "test", ["-w", dataDirectory, "-a", "-w", logFile], "/", TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        if (access.ExitCode != 0)
        {
            throw new EmbeddedPostgresException(
                $"The '{account}' user cannot reach {dataDirectory} or {logFile}: a parent folder is not traversable for it. "
                + "Put the data folder under a world-traversable path (e.g. not under /root), or chmod o+x its parents.");
        }
    }

    private static async Task<FileLock> LockAsync(string path, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await FileLock.AcquireAsync(path, timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new EmbeddedPostgresException($"Another process holds {path} (starting the same data folder) for longer than {timeout.TotalSeconds:0} s.", ex);
        }
    }

    private static string ReadTail(string file, int lines)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException ex)
        {
            return $"(log unreadable: {ex.Message})";
        }
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task<(int ExitCode, string Output)> RunAsync(string? runAs, string file, IReadOnlyList<string> args, string workingDirectory, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The service account may not be able to enter the caller's working directory.
            WorkingDirectory = workingDirectory,
        };
        // English messages, so that failures read the same everywhere (and "could not bind" can be recognised).
        psi.Environment["LC_ALL"] = "C";
        if (runAs is null)
        {
            psi.FileName = file;
        }
        else
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(runAs);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }

        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new EmbeddedPostgresException($"Could not start {psi.FileName}.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new EmbeddedPostgresException($"Could not run {psi.FileName}: {ex.Message}", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                if (ct.IsCancellationRequested)
                {
                    throw;
                }

                throw new EmbeddedPostgresException($"{Path.GetFileName(file)} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s.");
            }

            var output = new StringBuilder();
            output.Append((await stdout.ConfigureAwait(false)).Trim());
            var err = (await stderr.ConfigureAwait(false)).Trim();
            if (err.Length > 0)
            {
                output.Append(output.Length > 0 ? " | " : string.Empty).Append(err);
            }

            return (process.ExitCode, output.ToString());
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex DatabaseName();

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)")]
    private static partial Regex VersionPattern();
}
