using Microsoft.Extensions.Logging;
using Orleans.Hosting;

namespace Storage.Client;

/// <summary>
/// How <see cref="StorageClient.ConnectAsync"/> finds the cluster and how long it keeps trying. Give exactly one
/// of <see cref="ConnectionString"/> (the silos' PostgreSQL membership table) or <see cref="Gateways"/>
/// (a fixed list of silo gateway endpoints).
/// </summary>
public sealed class StorageClientOptions
{
    /// <summary>The default of <see cref="ClusterId"/> and <see cref="ServiceId"/>, matching the silo's defaults.</summary>
    public const string DefaultId = "storage";

    /// <summary>
    /// The PostgreSQL connection string of the cluster's membership table (Orleans AdoNet clustering): the
    /// client finds the live gateways there and follows silos as they come and go. Mutually exclusive with
    /// <see cref="Gateways"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Silo gateway endpoints as <c>host:port</c> (IPv6 as <c>[addr]:port</c>), for clients that cannot reach
    /// PostgreSQL. Host names are resolved once at connect time. Mutually exclusive with <see cref="ConnectionString"/>.
    /// </summary>
    public IList<string> Gateways { get; init; } = new List<string>();

    /// <summary>The Orleans cluster id the silos run with (default <c>storage</c>).</summary>
    public string ClusterId { get; set; } = DefaultId;

    /// <summary>The Orleans service id the silos run with (default <c>storage</c>).</summary>
    public string ServiceId { get; set; } = DefaultId;

    /// <summary>How long <see cref="StorageClient.ConnectAsync"/> keeps trying to reach a gateway before it fails (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one operation keeps retrying transient failures (an unavailable shard, a lost gateway, a timeout)
    /// before the last error is rethrown (default 30 s). Writes are retried with the same <see cref="WriteId"/>, so
    /// a retry never applies a write twice. Zero disables client-side retries.
    /// </summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one attempt waits for its answer before it counts as a transient timeout and is retried (default 30 s,
    /// Orleans' own default). Keep it above the silos' router retry budget (<c>Storage:Router:RetryBudget</c>, 20 s by
    /// default) so that the router can finish its own failover first; lower it to notice a gateway that died with
    /// calls in flight sooner, which matters most with <see cref="Gateways"/> (no membership table tells the client).
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Optional logging setup for the client (its retries and the Orleans client's own logs). Without it the
    /// client logs nothing, which keeps command-line tools quiet.
    /// </summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }

    /// <summary>
    /// Advanced: runs last on the Orleans client builder, after the clustering and ids above are set — e.g. to tune
    /// <c>ClientMessagingOptions</c> or plug in another connection transport. Leave it null normally.
    /// </summary>
    public Action<IClientBuilder>? ConfigureOrleansClient { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is missing or malformed.</summary>
    /// <exception cref="ArgumentException">The options cannot describe a connection.</exception>
    public void Validate()
    {
        var hasConnectionString = !string.IsNullOrWhiteSpace(ConnectionString);
        var hasGateways = Gateways is { Count: > 0 };
        if (hasConnectionString == hasGateways)
        {
            throw new ArgumentException(hasConnectionString
                ? "give either a PostgreSQL connection string or a list of gateways, not both"
                : "no cluster to connect to: give a PostgreSQL connection string (membership) or at least one gateway host:port");
        }

        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            throw new ArgumentException("the cluster id must not be empty");
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            throw new ArgumentException("the service id must not be empty");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"the connect timeout must be positive, not {ConnectTimeout}");
        }

        if (ResponseTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"the response timeout must be positive, not {ResponseTimeout}");
        }

        if (RetryBudget < TimeSpan.Zero)
        {
            throw new ArgumentException($"the retry budget must not be negative, not {RetryBudget}");
        }

        if (hasConnectionString)
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"the connection string is not a valid PostgreSQL connection string: {e.Message.Replace(" (Parameter 'ConnectionString')", "", StringComparison.Ordinal)}", e);
            }
        }

        if (hasGateways)
        {
            foreach (var gateway in Gateways!)
            {
                _ = GatewayAddress.Parse(gateway);
            }
        }
    }
}
