using System.CommandLine;
using System.Globalization;
using Storage.Client;

namespace Storage.Cli;

/// <summary>
/// The options every verb takes (where the cluster is), and how they become <see cref="StorageClientOptions"/>.
/// Shared by the <c>storage</c> CLI and the <c>storage-bench</c> program so that both take the same connection flags.
/// </summary>
public sealed class GlobalOptions
{
    /// <summary>The environment variables read when the command line names no cluster (and for the ids).</summary>
    public const string ConnectionStringVariable = "STORAGE_CONNECTION_STRING";
    public const string GatewaysVariable = "STORAGE_GATEWAYS";
    public const string ClusterIdVariable = "STORAGE_CLUSTER_ID";
    public const string ServiceIdVariable = "STORAGE_SERVICE_ID";

    public Option<string?> ConnectionString { get; } = new("--connection-string", "-c")
    {
        Description = $"PostgreSQL connection string of the cluster's membership table [env: {ConnectionStringVariable}]",
        HelpName = "connection-string",
        Recursive = true,
    };

    public Option<string[]> Gateways { get; } = new("--gateway", "-g")
    {
        Description = $"A silo gateway host:port instead of the database; repeat for more [env: {GatewaysVariable}, comma-separated]",
        HelpName = "host:port",
        Arity = ArgumentArity.ZeroOrMore,
        Recursive = true,
    };

    public Option<string?> ClusterId { get; } = new("--cluster-id")
    {
        Description = $"Orleans cluster id of the silos [env: {ClusterIdVariable}; default: {StorageClientOptions.DefaultId}]",
        HelpName = "id",
        Recursive = true,
    };

    public Option<string?> ServiceId { get; } = new("--service-id")
    {
        Description = $"Orleans service id of the silos [env: {ServiceIdVariable}; default: {StorageClientOptions.DefaultId}]",
        HelpName = "id",
        Recursive = true,
    };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout")
    {
        Description = "Seconds to keep trying to reach the cluster",
        HelpName = "seconds",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    };

    /// <summary>Adds the options to <paramref name="root"/>; they are recursive, so every verb takes them.</summary>
    public void AddTo(RootCommand root)
    {
        root.Options.Add(ConnectionString);
        root.Options.Add(Gateways);
        root.Options.Add(ClusterId);
        root.Options.Add(ServiceId);
        root.Options.Add(ConnectTimeout);
    }

    /// <summary>
    /// The client options from the command line, falling back to the environment. The command line wins as a
    /// whole: a --gateway given there ignores STORAGE_CONNECTION_STRING and the other way round.
    /// </summary>
    /// <exception cref="ArgumentException">No cluster given, both given, or a malformed value.</exception>
    public StorageClientOptions ToClientOptions(ParseResult parse, Func<string, string?> environment)
    {
        var connectionString = parse.GetValue(ConnectionString);
        var gateways = Split(parse.GetValue(Gateways) ?? Array.Empty<string>());
        if (string.IsNullOrWhiteSpace(connectionString) && gateways.Count == 0)
        {
            connectionString = environment(ConnectionStringVariable);
            gateways = Split(new[] { environment(GatewaysVariable) ?? string.Empty });
        }

        var hasConnectionString = !string.IsNullOrWhiteSpace(connectionString);
        if (!hasConnectionString && gateways.Count == 0)
        {
            throw new ArgumentException($"no cluster given: pass --connection-string or --gateway (or set {ConnectionStringVariable} or {GatewaysVariable})");
        }

        if (hasConnectionString && gateways.Count > 0)
        {
            throw new ArgumentException("give either --connection-string or --gateway, not both");
        }

        var timeout = parse.GetValue(ConnectTimeout);
        if (!(timeout > 0) || double.IsInfinity(timeout))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--connect-timeout must be a positive number of seconds, not {timeout}"));
        }

        var options = new StorageClientOptions
        {
            ConnectionString = hasConnectionString ? connectionString : null,
            ClusterId = FirstNonEmpty(parse.GetValue(ClusterId), environment(ClusterIdVariable)) ?? StorageClientOptions.DefaultId,
            ServiceId = FirstNonEmpty(parse.GetValue(ServiceId), environment(ServiceIdVariable)) ?? StorageClientOptions.DefaultId,
            ConnectTimeout = TimeSpan.FromSeconds(timeout),
        };
        foreach (var gateway in gateways)
        {
            options.Gateways.Add(gateway);
        }

        options.Validate();
        return options;
    }

    private static List<string> Split(IEnumerable<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
