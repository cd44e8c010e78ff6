using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Storage.Development;

namespace Storage.LocalCluster;

/// <summary>
/// A cluster on one machine: a PostgreSQL (given, or the embedded default under the data folder) and N silo
/// processes (<c>dotnet Storage.Silo.dll</c>) on loopback ports, spread over regions, each logging to its own file.
/// Started by the launcher's Program and by multi-process tests, which also use it to crash, pause and restart silos.
/// </summary>
/// <remarks>
/// Silos are real processes so that a kill is a real crash (no in-process shortcut can fake a lost socket or an
/// unflushed buffer). Nothing outlives the cluster: <see cref="StopAsync"/> stops silos (SIGTERM, then SIGKILL) and
/// then the embedded server; if this process dies first, silos get SIGTERM from the kernel (see
/// <see cref="ProcessSpawner"/>) and the next start on the same data folder stops whatever the state file says
/// was left running.
/// </remarks>
public sealed partial class LocalCluster : IAsyncDisposable
{
    public const string SiloAssembly = "Storage.Silo.dll";
    private const string StateFileName = "local-cluster.json";
    private const string LockFileName = "local-cluster.lock";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly ILogger _logger;
    private readonly ProcessSpawner _spawner = new();
    private readonly FileLock _lock;
    private readonly List<LocalSilo> _silos = [];
    private readonly string _siloDirectory;
    private readonly string _dotnet;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private EmbeddedPostgres? _postgres;
    private IHost? _client;
    private Task? _stopping;
    private bool _startedAnything;

    // The next block of ports (base + slot) no silo has used: added silos and restarts under a new address take it.
    private int _nextSlot;

    private LocalCluster(LocalClusterOptions options, string dataDirectory, string siloDirectory, string dotnet, FileLock launcherLock, ILogger logger)
    {
        Options = options;
        DataDirectory = dataDirectory;
        LogDirectory = Path.Combine(dataDirectory, "logs");
        StateFile = Path.Combine(dataDirectory, StateFileName);
        ConnectionString = options.ConnectionString ?? string.Empty;
        _siloDirectory = siloDirectory;
        _dotnet = dotnet;
        _lock = launcherLock;
        _logger = logger;
        for (var i = 0; i < options.Silos; i++)
        {
            _silos.Add(NewSilo(i));
        }

        _nextSlot = options.Silos;
    }

    public LocalClusterOptions Options { get; }

    /// <summary>The data folder: postgres/, logs/ and the launcher's state file.</summary>
    public string DataDirectory { get; }

    public string LogDirectory { get; }

    /// <summary>Where the processes this cluster started are recorded while it runs.</summary>
    public string StateFile { get; }

    /// <summary>The PostgreSQL every silo (and any client, through the membership table) uses.</summary>
    public string ConnectionString { get; private set; }

    /// <summary>The embedded server, or null when a connection string was given.</summary>
    public EmbeddedPostgres? Postgres => _postgres;

    public IReadOnlyList<LocalSilo> Silos => _silos;

    /// <summary>The cluster's own client (used to wait for leaders); applications and tests may use it or connect their own.</summary>
    public IClusterClient Client => _client?.Services.GetRequiredService<IClusterClient>() ?? throw new InvalidOperationException("The cluster is not started.");

    /// <summary>Whether silos are started under setpriv --pdeathsig (they then die with this process, however it dies).</summary>
    public static bool SilosDieWithLauncher => ProcessSpawner.Wrapper is not null;

    /// <summary>
    /// Starts the cluster and returns once every silo answers /health/ready with 200 and every shard has a leader.
    /// </summary>
    /// <exception cref="LocalClusterException">A setting is invalid, a port is taken, PostgreSQL or a silo failed to start, or the cluster was not ready in time; the message says which and shows the relevant log.</exception>
    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, ILogger? logger = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new LocalClusterException("Invalid settings:\n  " + string.Join("\n  ", errors));
        }

        logger ??= NullLogger.Instance;
        var dataDirectory = HostPaths.DataDirectory(options);
        var siloDirectory = HostPaths.SiloDirectory(options, SiloAssembly);
        var dotnet = HostPaths.Dotnet(options);
        System.IO.Directory.CreateDirectory(Path.Combine(dataDirectory, "logs"));

        var launcherLock = LauncherLock.Acquire(Path.Combine(dataDirectory, LockFileName), Path.Combine(dataDirectory, StateFileName));
        var cluster = new LocalCluster(options, dataDirectory, siloDirectory, dotnet, launcherLock, logger);
        try
        {
            await cluster.StartCoreAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await cluster.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    /// <summary>The silo with index <paramref name="index"/> (0-based, as in silo-0).</summary>
    public LocalSilo Silo(int index) =>
        index >= 0 && index < _silos.Count ? _silos[index] : throw new ArgumentOutOfRangeException(nameof(index), index, $"there are {_silos.Count} silos");

    /// <summary>Crashes a silo: SIGKILL (kill -9), no shutdown code runs. Returns once the process is gone.</summary>
    public void KillSilo(int index)
    {
        var silo = Silo(index);
        var process = silo.Process is { HasExited: false } p ? p : throw new InvalidOperationException($"{silo.Name} is not running");
        process.Kill(); // SIGKILL on Unix; it also ends a paused process.
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new LocalClusterException($"{silo.Name} (pid {silo.Pid}) survived SIGKILL for 10 s");
        }

        silo.IsPaused = false;
        LogKilled(silo.Name, silo.Pid);
    }

    /// <summary>Freezes a silo (SIGSTOP): its sockets stay open but nothing answers, like a long GC pause or a hung VM.</summary>
    public void PauseSilo(int index)
    {
        var silo = RunningSilo(index);
        if (!Posix.Signal(silo.Pid, Posix.SigStop))
        {
            throw new InvalidOperationException($"could not pause {silo.Name} (pid {silo.Pid})");
        }

        silo.IsPaused = true;
        LogPaused(silo.Name, silo.Pid);
    }

    /// <summary>Lets a paused silo run again (SIGCONT).</summary>
    public void ResumeSilo(int index)
    {
        var silo = RunningSilo(index);
        if (!Posix.Signal(silo.Pid, Posix.SigCont))
        {
            throw new InvalidOperationException($"could not resume {silo.Name} (pid {silo.Pid})");
        }

        silo.IsPaused = false;
        LogResumed(silo.Name, silo.Pid);
    }

    /// <summary>Stops one silo gracefully (SIGTERM; SIGKILL after <see cref="LocalClusterOptions.StopTimeout"/>).</summary>
    public async Task StopSiloAsync(int index)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopSiloCoreAsync(Silo(index)).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops several silos gracefully at once: SIGTERM to each, then waits for all (each killed after
    /// <see cref="LocalClusterOptions.StopTimeout"/>), as when an operator scales a deployment in.
    /// </summary>
    public async Task StopSilosAsync(IEnumerable<int> indexes)
    {
        var silos = indexes.Select(Silo).ToList();
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(silos.Select(StopSiloCoreAsync)).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts a silo again with the same name, region and ports (stopping it gracefully first if it still runs) and
    /// returns once it is ready. Its replicas then catch up from the others.
    /// </summary>
    public async Task RestartSiloAsync(int index, CancellationToken ct = default)
    {
        var silo = Silo(index);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_stopping is not null, this);
            await StopSiloCoreAsync(silo).ConfigureAwait(false);

            // A crashed process's listening sockets close with it, but give the kernel a moment before calling a port taken.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            IReadOnlyList<string> taken;
            while ((taken = Ports.Taken([silo])).Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct).ConfigureAwait(false);
            }

            if (taken.Count > 0)
            {
                throw new LocalClusterException($"Cannot restart {silo.Name}: {string.Join(", ", taken)} is in use by another process.");
            }

            await StartSiloProcessAsync(silo).ConfigureAwait(false);
            await WaitReadyAsync(silo, DateTime.UtcNow + Options.ReadyTimeout, ct).ConfigureAwait(false);
            LogRestarted(silo.Name, silo.Pid);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts one more silo process while the cluster runs, with a name no silo had (<c>silo-N</c>, N its index), the
    /// next region in turn, and the next unused ports; returns it once it answers /health/ready. Whatever it gets
    /// (replicas, leaders) is up to the cluster's rebalancer.
    /// </summary>
    /// <exception cref="LocalClusterException">Its ports are taken, or it exited or was not ready within <see cref="LocalClusterOptions.ReadyTimeout"/>.</exception>
    public async Task<LocalSilo> AddSiloAsync(CancellationToken ct = default) => (await AddSilosAsync(1, ct).ConfigureAwait(false))[0];

    /// <summary>
    /// Starts <paramref name="count"/> more silo processes at once (as a scale-out does), named and placed as
    /// <see cref="AddSiloAsync"/> does, and returns them once every one is ready.
    /// </summary>
    /// <exception cref="LocalClusterException">A port is taken, or a silo exited or was not ready within <see cref="LocalClusterOptions.ReadyTimeout"/>.</exception>
    public async Task<IReadOnlyList<LocalSilo>> AddSilosAsync(int count, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_stopping is not null, this);
            var added = new List<LocalSilo>();
            for (var i = 0; i < count; i++)
            {
                // Its index names it; its ports come from the next free slot (a restart elsewhere may have used slot = index).
                var silo = NewSilo(_silos.Count + i);
                var slot = TakeSlot();
                silo.MoveTo(slot, Options.SiloBasePort + slot, Options.GatewayBasePort + slot, Options.HttpBasePort + slot);
                ThrowIfTaken(silo, "add");
                added.Add(silo);
            }

            var deadline = DateTime.UtcNow + Options.ReadyTimeout;
            foreach (var silo in added)
            {
                lock (_silos)
                {
                    _silos.Add(silo);
                }

                await StartSiloProcessAsync(silo).ConfigureAwait(false);
            }

            await Task.WhenAll(added.Select(s => WaitReadyAsync(s, deadline, ct))).ConfigureAwait(false);
            foreach (var silo in added)
            {
                LogAdded(silo.Name, silo.Pid, silo.Region, silo.Zone);
            }

            return added;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts a silo again under the same name, region and zone but on ports no silo has used (a new address, like a
    /// Kubernetes pod that comes back with another IP), stopping it gracefully first if it still runs; returns once it
    /// is ready. The cluster knows it by its name, so it should get its replicas back.
    /// </summary>
    /// <exception cref="LocalClusterException">The new ports are taken, or it exited or was not ready in time.</exception>
    public async Task RestartSiloElsewhereAsync(int index, CancellationToken ct = default)
    {
        var silo = Silo(index);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_stopping is not null, this);
            await StopSiloCoreAsync(silo).ConfigureAwait(false);
            var (oldSilo, oldGateway) = (silo.SiloPort, silo.GatewayPort);
            var slot = TakeSlot();
            silo.MoveTo(slot, Options.SiloBasePort + slot, Options.GatewayBasePort + slot, Options.HttpBasePort + slot);
            ThrowIfTaken(silo, "restart");
            await StartSiloProcessAsync(silo).ConfigureAwait(false);
            await WaitReadyAsync(silo, DateTime.UtcNow + Options.ReadyTimeout, ct).ConfigureAwait(false);
            LogRestartedElsewhere(silo.Name, silo.Pid, oldSilo, oldGateway, silo.SiloPort, silo.GatewayPort);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The cluster's status through its client (one call; no retry).</summary>
    public Task<ClusterStatus> GetStatusAsync() => Client.GetGrain<IStore>(0).GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>Waits until the shard map exists and every shard reports a leader.</summary>
    public async Task<ClusterStatus> WaitForLeadersAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer yet";
        while (true)
        {
            try
            {
                var status = await GetStatusAsync().WaitAsync(ct).ConfigureAwait(false);
                if (status.Shards.Count > 0 && status.Shards.All(s => s.LeaderReplica != 0))
                {
                    return status;
                }

                var leaderless = status.Shards.Where(s => s.LeaderReplica == 0).Select(s => s.ShardId).ToList();
                last = status.Shards.Count == 0 ? "no shards yet" : $"no leader yet for shard(s) {string.Join(", ", leaderless)}";
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // The shard map appears only once enough silos are active; until then status fails with a typed error.
                last = $"{e.GetType().Name}: {e.Message}";
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new LocalClusterException($"The silos are up but not every shard had a leader within {timeout.TotalSeconds:0} s ({last}). Silo logs are in {LogDirectory}.");
            }

            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops everything this cluster started: its client, every silo (gracefully, in parallel), then the embedded
    /// PostgreSQL if it started it. Safe to call more than once and concurrently; later callers wait for the first.
    /// </summary>
    public Task StopAsync(CancellationToken ct = default)
    {
        lock (_silos)
        {
            _stopping ??= StopCoreAsync();
        }

        return _stopping.WaitAsync(ct);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>The last <paramref name="lines"/> lines of a log file (shared read: the writer may still be appending).</summary>
    public static string Tail(string file, int lines = 30)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().TrimEnd('\n').Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)).Select(l => "    | " + l));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"    (log {file} unreadable: {e.Message})";
        }
    }

    private async Task StartCoreAsync(CancellationToken ct)
    {
        await StaleProcesses.StopAsync(StateFile, Options.StopTimeout, _logger).ConfigureAwait(false);

        // Ports first: a clash is the most likely mistake and should not wait for PostgreSQL to start.
        var taken = Ports.Taken(_silos);
        if (taken.Count > 0)
        {
            throw new LocalClusterException(
                $"Cannot start: {string.Join(", ", taken)} {(taken.Count == 1 ? "is" : "are")} already in use on this machine. "
                + $"Stop whatever uses {(taken.Count == 1 ? "it" : "them")} (perhaps another local cluster), or choose other ports with --base-port (or --silo-port, --gateway-port, --http-port).");
        }

        if (Options.ConnectionString is null)
        {
            try
            {
                _postgres = await EmbeddedPostgres.StartAsync(
                    new EmbeddedPostgresOptions
                    {
                        DataDirectory = Path.Combine(DataDirectory, "postgres"),
                        LogFile = Path.Combine(LogDirectory, "postgres.log"),
                        Port = Options.PostgresPort,
                        Durable = Options.DurablePostgres,
                        // Three silos each pool connections for membership, checkpoints and the Raft log writer.
                        Settings = { ["max_connections"] = "300" },
                    },
                    _logger,
                    ct).ConfigureAwait(false);
            }
            catch (EmbeddedPostgresException e)
            {
                throw new LocalClusterException($"The embedded PostgreSQL could not start: {e.Message}", e);
            }

            ConnectionString = _postgres.ConnectionString;
            _startedAnything = true;
        }

        WriteState();
        var deadline = DateTime.UtcNow + Options.ReadyTimeout;
        foreach (var silo in _silos)
        {
            await StartSiloProcessAsync(silo).ConfigureAwait(false);
        }

        await Task.WhenAll(_silos.Select(s => WaitReadyAsync(s, deadline, ct))).ConfigureAwait(false);
        LogSilosReady(_silos.Count);

        _client = await LocalClusterClient.ConnectAsync(ConnectionString, Options.ClusterId, Options.ServiceId, ct: ct).ConfigureAwait(false);
        var remaining = deadline - DateTime.UtcNow;
        await WaitForLeadersAsync(remaining > TimeSpan.FromSeconds(5) ? remaining : TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
    }

    private async Task StartSiloProcessAsync(LocalSilo silo)
    {
        var started = DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        await File.AppendAllTextAsync(silo.LogFile, $"===== {started} local cluster: starting {silo.Name} ({silo.Region}/{silo.Zone}), start #{silo.Starts + 1} =====\n").ConfigureAwait(false);
        var process = await _spawner.StartAsync(_dotnet, SiloArguments(), silo.LogFile, _siloDirectory, SiloEnvironment(silo)).ConfigureAwait(false);
        silo.Process?.Dispose();
        silo.Process = process;
        silo.Pid = process.Id;
        silo.Starts++;
        silo.IsPaused = false;
        _startedAnything = true;
        WriteState();
        LogSiloStarted(silo.Name, silo.Pid, silo.SiloPort, silo.GatewayPort, silo.HttpPort);
    }

    private Dictionary<string, string?> SiloEnvironment(LocalSilo silo)
    {
        string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Storage__ConnectionString"] = ConnectionString,
            ["Storage__ClusterId"] = Options.ClusterId,
            ["Storage__ServiceId"] = Options.ServiceId,
            ["Storage__Region"] = silo.Region,
            ["Storage__Zone"] = silo.Zone,
            ["Storage__SiloName"] = silo.Name,
            ["Storage__AdvertisedAddress"] = "127.0.0.1",
            ["Storage__SiloPort"] = Port(silo.SiloPort),
            ["Storage__GatewayPort"] = Port(silo.GatewayPort),
            ["Storage__HttpPort"] = Port(silo.HttpPort),
            // The first shard map waits for ReplicationFactor active silos: with fewer silos it would never appear.
            ["Storage__Directory__ReplicationFactor"] = Port(Math.Min(3, Options.Silos)),
            // The silo sets its own URLs; an inherited one would only confuse.
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_HTTP_PORTS"] = null,
        };
        return env;
    }

    /// <summary>
    /// Logging defaults, then <see cref="LocalClusterOptions.Settings"/>, as silo command-line configuration
    /// (<c>--Key=Value</c>, which wins over the environment, later over earlier). Not environment variables: keys such
    /// as Logging:LogLevel:Microsoft.AspNetCore are not shell identifiers, and /bin/sh drops those from the environment.
    /// </summary>
    private List<string> SiloArguments()
    {
        var settings = new List<KeyValuePair<string, string>>
        {
            // One line per entry with a timestamp: logs read as a timeline and grep well.
            new("Logging:Console:FormatterName", "simple"),
            new("Logging:Console:FormatterOptions:SingleLine", "true"),
            new("Logging:Console:FormatterOptions:TimestampFormat", "yyyy-MM-dd HH:mm:ss.fff "),
            new("Logging:Console:FormatterOptions:ColorBehavior", "Disabled"),
            // Per-request and per-retry chatter, kept out unless asked for (e.g. --setting Logging:LogLevel:Npgsql=Information).
            new("Logging:LogLevel:Microsoft.AspNetCore", "Warning"),
            new("Logging:LogLevel:Npgsql", "Warning"),
            new("Logging:LogLevel:Polly", "Warning"),
        };
        settings.AddRange(Options.Settings);
        return [Path.Combine(_siloDirectory, SiloAssembly), .. settings.Select(s => $"--{s.Key}={s.Value}")];
    }

    private async Task WaitReadyAsync(LocalSilo silo, DateTime deadline, CancellationToken ct)
    {
        var last = "no answer yet";
        while (true)
        {
            if (silo.Process is { HasExited: true } exited)
            {
                throw new LocalClusterException(
                    $"{silo.Name} exited with code {exited.ExitCode} before it was ready. Last lines of {silo.LogFile}:\n{Tail(silo.LogFile)}");
            }

            try
            {
                using var response = await Http.GetAsync(silo.ReadyUrl, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                last = "no answer within 2 s";
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new LocalClusterException(
                    $"{silo.Name} was not ready in time ({silo.ReadyUrl}: {last}). Last lines of {silo.LogFile}:\n{Tail(silo.LogFile)}");
            }

            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }

    private async Task StopSiloCoreAsync(LocalSilo silo)
    {
        if (silo.Process is not { HasExited: false } process)
        {
            return;
        }

        // A stopped (SIGSTOP) process would not act on SIGTERM until continued.
        Posix.Signal(silo.Pid, Posix.SigCont);
        Posix.Signal(silo.Pid, Posix.SigTerm);
        using var limit = new CancellationTokenSource(Options.StopTimeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            LogSiloStopped(silo.Name, silo.Pid, process.ExitCode);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            LogSiloKilledAfterTimeout(silo.Name, silo.Pid, Options.StopTimeout.TotalSeconds);
        }

        silo.IsPaused = false;
    }

    private async Task StopCoreAsync()
    {
        // Let a restart in progress finish first, so no silo starts behind our back.
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_client is not null)
            {
                try
                {
                    using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _client.StopAsync(limit.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or OrleansException)
                {
                    // The client only talks to our silos, which are about to stop anyway.
                }

                _client.Dispose();
                _client = null;
            }

            await Task.WhenAll(_silos.Select(StopSiloCoreAsync)).ConfigureAwait(false);

            if (_postgres is not null)
            {
                try
                {
                    await _postgres.StopAsync().ConfigureAwait(false);
                }
                catch (EmbeddedPostgresException e)
                {
                    LogPostgresStopFailed(e.Message);
                }
            }

            StaleProcesses.TryDelete(StateFile);
        }
        finally
        {
            _gate.Release();
            _spawner.Dispose();
            _lock.Dispose();
        }

        if (_startedAnything)
        {
            LogStopped();
        }
    }

    private void WriteState()
    {
        var postgres = _postgres is { OwnsServer: true } server && StaleProcesses.PostmasterPid(server.DataDirectory) is { } pid
            ? new PostgresRecord(server.DataDirectory, pid)
            : null;
        var silos = _silos
            .Where(s => s.Pid > 0 && Posix.StartTime(s.Pid) is not null)
            .Select(s => new ProcessRecord(s.Name, s.Pid, Posix.StartTime(s.Pid)!.Value))
            .ToList();
        new LauncherState(Environment.ProcessId, postgres, silos).Write(StateFile);
    }

    private LocalSilo NewSilo(int index)
    {
        var region = Options.Regions[index % Options.Regions.Count];
        var name = string.Create(CultureInfo.InvariantCulture, $"silo-{index}");
        return new LocalSilo(
            index,
            name,
            region,
            string.Create(CultureInfo.InvariantCulture, $"{region}-{(index / Options.Regions.Count) + 1}"),
            index,
            Options.SiloBasePort + index,
            Options.GatewayBasePort + index,
            Options.HttpBasePort + index,
            Path.Combine(LogDirectory, name + ".log"));
    }

    /// <summary>
    /// The next unused slot. Slots stay below the smallest gap between the three port bases, so a silo port never
    /// lands on another silo's gateway or probe port (with <see cref="LocalClusterOptions.UseBasePort"/> that is 100).
    /// </summary>
    private int TakeSlot()
    {
        var bases = new[] { Options.SiloBasePort, Options.GatewayBasePort, Options.HttpBasePort }.Order().ToArray();
        var room = Math.Min(bases[1] - bases[0], bases[2] - bases[1]);
        if (_nextSlot >= room || bases[2] + _nextSlot > 65535)
        {
            throw new LocalClusterException(
                $"No ports left for another silo: {_nextSlot} blocks used, and the port bases (silo {Options.SiloBasePort}, gateway {Options.GatewayBasePort}, http {Options.HttpBasePort}) leave room for {room}.");
        }

        return _nextSlot++;
    }

    private static void ThrowIfTaken(LocalSilo silo, string what)
    {
        var taken = Ports.Taken([silo]);
        if (taken.Count > 0)
        {
            throw new LocalClusterException($"Cannot {what} {silo.Name}: {string.Join(", ", taken)} {(taken.Count == 1 ? "is" : "are")} in use by another process.");
        }
    }

    private LocalSilo RunningSilo(int index)
    {
        var silo = Silo(index);
        return silo.IsRunning ? silo : throw new InvalidOperationException($"{silo.Name} is not running");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Started {Silo} (pid {Pid}; silo port {SiloPort}, gateway {GatewayPort}, http {HttpPort})")]
    private partial void LogSiloStarted(string silo, int pid, int siloPort, int gatewayPort, int httpPort);

    [LoggerMessage(Level = LogLevel.Information, Message = "All {Count} silos are ready; waiting for every shard to have a leader")]
    private partial void LogSilosReady(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Killed {Silo} (pid {Pid}) with SIGKILL")]
    private partial void LogKilled(string silo, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Paused {Silo} (pid {Pid}) with SIGSTOP")]
    private partial void LogPaused(string silo, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed {Silo} (pid {Pid}) with SIGCONT")]
    private partial void LogResumed(string silo, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restarted {Silo} (pid {Pid}); it is ready")]
    private partial void LogRestarted(string silo, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Added {Silo} (pid {Pid}, {Region}/{Zone}); it is ready")]
    private partial void LogAdded(string silo, int pid, string region, string zone);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restarted {Silo} (pid {Pid}) under a new address: silo port {OldSiloPort} -> {SiloPort}, gateway {OldGatewayPort} -> {GatewayPort}; it is ready")]
    private partial void LogRestartedElsewhere(string silo, int pid, int oldSiloPort, int oldGatewayPort, int siloPort, int gatewayPort);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped {Silo} (pid {Pid}, exit code {ExitCode})")]
    private partial void LogSiloStopped(string silo, int pid, int exitCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Killed {Silo} (pid {Pid}): it did not stop within {Seconds} s of SIGTERM")]
    private partial void LogSiloKilledAfterTimeout(string silo, int pid, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not stop the embedded PostgreSQL: {Reason}")]
    private partial void LogPostgresStopFailed(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Local cluster stopped")]
    private partial void LogStopped();
}
