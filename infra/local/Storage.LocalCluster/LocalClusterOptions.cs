using Npgsql;

namespace Storage.LocalCluster;

/// <summary>How <see cref="LocalCluster"/> lays out its silo processes and where it keeps data and logs.</summary>
public sealed class LocalClusterOptions
{
    /// <summary>The regions silos are spread over, in order: silo i is in <c>Regions[i % Regions.Count]</c>.</summary>
    public static readonly IReadOnlyList<string> DefaultRegions = ["eu", "us", "ap"];

    /// <summary>The most silos one launcher runs; also keeps the derived port ranges of <c>--base-port</c> apart.</summary>
    public const int MaxSilos = 20;

    /// <summary>Number of silo processes.</summary>
    public int Silos { get; set; } = 3;

    /// <summary>An existing PostgreSQL; null starts (or reuses) the embedded server under <see cref="DataDirectory"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The folder for everything the cluster writes: <c>postgres/</c> (the embedded server's data), <c>logs/</c>
    /// (one log per silo and the server's log) and the launcher's state file. Null means <c>&lt;repo&gt;/.data</c>.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>The embedded server's loopback port (fixed by default so the connection string stays the same across runs); 0 picks a free one.</summary>
    public int PostgresPort { get; set; } = 15432;

    /// <summary>False runs the embedded server without fsync: faster, for throwaway clusters (tests) only.</summary>
    public bool DurablePostgres { get; set; } = true;

    /// <summary>Silo i listens for silo-to-silo traffic on <c>SiloBasePort + i</c>.</summary>
    public int SiloBasePort { get; set; } = 11111;

    /// <summary>Silo i accepts clients on <c>GatewayBasePort + i</c>.</summary>
    public int GatewayBasePort { get; set; } = 30000;

    /// <summary>Silo i serves its probes (/health/live, /health/ready) on <c>HttpBasePort + i</c>.</summary>
    public int HttpBasePort { get; set; } = 8080;

    public string ClusterId { get; set; } = "storage";

    public string ServiceId { get; set; } = "storage";

    public IReadOnlyList<string> Regions { get; set; } = DefaultRegions;

    /// <summary>The folder holding Storage.Silo.dll; null means the folder of this assembly (the project reference copies it there).</summary>
    public string? SiloDirectory { get; set; }

    /// <summary>The dotnet host that runs the silos; null finds it (DOTNET_HOST_PATH, this process's host, then PATH).</summary>
    public string? DotnetPath { get; set; }

    /// <summary>How long starting may take: every silo ready, then every shard with a leader.</summary>
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a silo gets to stop after SIGTERM before it is killed. A stopping silo drains first (its replicas move to
    /// other silos, up to <c>Storage:Drain:Timeout</c>, 2 min) and its host allows 25 s more: this is above both, so that
    /// a graceful stop does not turn into a crash. (When every silo stops at once nothing can move and they stop in seconds.)
    /// </summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Extra configuration for every silo, e.g. <c>Storage:Directory:InitialShards = 4</c> (passed on its command line, <c>--Key=Value</c>).</summary>
    public IDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Sets all three port bases from one number: silo ports at P, gateways at P+100, probes at P+200.</summary>
    public void UseBasePort(int basePort)
    {
        SiloBasePort = basePort;
        GatewayBasePort = basePort + 100;
        HttpBasePort = basePort + 200;
    }

    /// <summary>Problems with the settings, each naming the setting; empty when valid. Nothing is checked against the machine here.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Silos is < 1 or > MaxSilos)
        {
            errors.Add($"--silos must be between 1 and {MaxSilos} (got {Silos})");
        }

        var count = Math.Clamp(Silos, 1, MaxSilos);
        void Range(string name, int basePort)
        {
            if (basePort < 1 || basePort + count - 1 > 65535)
            {
                errors.Add($"{name} {basePort} does not leave {count} TCP ports below 65536");
            }
        }

        Range("--silo-port", SiloBasePort);
        Range("--gateway-port", GatewayBasePort);
        Range("--http-port", HttpBasePort);
        var ranges = new[] { ("--silo-port", SiloBasePort), ("--gateway-port", GatewayBasePort), ("--http-port", HttpBasePort) };
        for (var a = 0; a < ranges.Length; a++)
        {
            for (var b = a + 1; b < ranges.Length; b++)
            {
                if (Math.Abs(ranges[a].Item2 - ranges[b].Item2) < count)
                {
                    errors.Add($"{ranges[a].Item1} {ranges[a].Item2} and {ranges[b].Item1} {ranges[b].Item2} overlap for {count} silos");
                }
            }
        }

        if (ConnectionString is null && PostgresPort is < 0 or > 65535)
        {
            errors.Add($"--postgres-port must be 0 (any free port) or 1-65535 (got {PostgresPort})");
        }

        if (ConnectionString is not null)
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException e)
            {
                errors.Add($"--connection-string is not a valid PostgreSQL connection string: {e.Message}");
            }
        }

        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
        {
            errors.Add("--cluster-id and --service-id must not be empty");
        }

        if (Regions.Count == 0 || Regions.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("at least one region is needed, and none may be empty");
        }

        if (ReadyTimeout <= TimeSpan.Zero || StopTimeout <= TimeSpan.Zero)
        {
            errors.Add("the ready and stop timeouts must be positive");
        }

        foreach (var key in Settings.Keys)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Contains('=', StringComparison.Ordinal))
            {
                errors.Add($"silo setting '{key}' is not a configuration key (e.g. Storage:Directory:InitialShards)");
            }
        }

        return errors;
    }
}
