using System.CommandLine;
using Storage.LocalCluster;

// The local cluster launcher: PostgreSQL (given or embedded) + N silo processes; runs until Ctrl-C / SIGTERM.
// Exit codes: 0 stopped cleanly, 1 could not start, 2 invalid settings, 130 interrupted while starting.
var defaults = new LocalClusterOptions();
var silos = new Option<int>("--silos", "-n") { Description = "Number of silo processes (regions eu, us, ap in turn)", DefaultValueFactory = _ => defaults.Silos };
var connectionString = new Option<string?>("--connection-string") { Description = "Use this PostgreSQL instead of starting the embedded one" };
var dataDir = new Option<string?>("--data-dir") { Description = "Folder for the embedded PostgreSQL's data, the logs and the launcher's state (default <repo>/.data)" };
var basePort = new Option<int?>("--base-port") { Description = "Port base for everything: silo ports P+i, gateways P+100+i, probes P+200+i" };
var siloPort = new Option<int?>("--silo-port") { Description = $"First silo-to-silo port (default {defaults.SiloBasePort})" };
var gatewayPort = new Option<int?>("--gateway-port") { Description = $"First client gateway port (default {defaults.GatewayBasePort})" };
var httpPort = new Option<int?>("--http-port") { Description = $"First probe (HTTP) port (default {defaults.HttpBasePort})" };
var postgresPort = new Option<int>("--postgres-port") { Description = "Port of the embedded PostgreSQL; 0 picks a free one", DefaultValueFactory = _ => defaults.PostgresPort };
var clusterId = new Option<string>("--cluster-id") { Description = "Orleans cluster id", DefaultValueFactory = _ => defaults.ClusterId };
var serviceId = new Option<string>("--service-id") { Description = "Orleans service id", DefaultValueFactory = _ => defaults.ServiceId };
var readyTimeout = new Option<int>("--ready-timeout") { Description = "Seconds to wait for every silo to be ready and every shard to have a leader", DefaultValueFactory = _ => (int)defaults.ReadyTimeout.TotalSeconds };
var settings = new Option<string[]>("--setting") { Description = "Extra silo configuration KEY=VALUE, repeatable (e.g. Storage:Directory:InitialShards=4)", DefaultValueFactory = _ => [] };

var root = new RootCommand("Starts a local Storage cluster: an embedded PostgreSQL (unless --connection-string) and silo processes on loopback, until Ctrl-C.")
{
    silos, connectionString, dataDir, basePort, siloPort, gatewayPort, httpPort, postgresPort, clusterId, serviceId, readyTimeout, settings,
};
root.SetAction(async (parse, _) =>
{
    var options = new LocalClusterOptions
    {
        Silos = parse.GetValue(silos),
        ConnectionString = parse.GetValue(connectionString) is { Length: > 0 } cs ? cs : null,
        DataDirectory = parse.GetValue(dataDir),
        PostgresPort = parse.GetValue(postgresPort),
        ClusterId = parse.GetValue(clusterId) ?? defaults.ClusterId,
        ServiceId = parse.GetValue(serviceId) ?? defaults.ServiceId,
        ReadyTimeout = TimeSpan.FromSeconds(parse.GetValue(readyTimeout)),
    };
    if (parse.GetValue(basePort) is { } p)
    {
        options.UseBasePort(p);
    }

    options.SiloBasePort = parse.GetValue(siloPort) ?? options.SiloBasePort;
    options.GatewayBasePort = parse.GetValue(gatewayPort) ?? options.GatewayBasePort;
    options.HttpBasePort = parse.GetValue(httpPort) ?? options.HttpBasePort;

    var errors = new List<string>();
    foreach (var setting in parse.GetValue(settings) ?? [])
    {
        var eq = setting.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            errors.Add($"--setting '{setting}' is not KEY=VALUE");
            continue;
        }

        options.Settings[setting[..eq]] = setting[(eq + 1)..];
    }

    errors.AddRange(options.Validate());
    if (errors.Count > 0)
    {
        foreach (var error in errors)
        {
            Console.Error.WriteLine($"local cluster: {error}");
        }

        return 2;
    }

    return await Launcher.RunAsync(options);
});

// The launcher handles SIGINT/SIGTERM itself (a graceful stop takes longer than System.CommandLine's 2 s grace).
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
