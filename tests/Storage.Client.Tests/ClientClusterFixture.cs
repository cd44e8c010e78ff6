using System.Text;
using Storage.Client;
using Storage.TestKit;
using Xunit;

namespace Storage.Client.Tests;

/// <summary>One PostgreSQL and one 3-silo cluster; clients and the CLI find it through the same membership table.</summary>
public sealed class ClientClusterFixture : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();

    public StorageCluster Cluster { get; private set; } = null!;

    public string ConnectionString => Cluster.ConnectionString;

    public string ClusterId => Cluster.Cluster.Options.ClusterId;

    public string ServiceId => Cluster.Cluster.Options.ServiceId;

    /// <summary>A client connected through the PostgreSQL membership, shared by the tests that need nothing special.</summary>
    public StorageClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        Cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("client"));
        Transport = TestClusterTransport.For(Cluster.Cluster);
        Client = await StorageClient.ConnectAsync(Options());
    }

    /// <summary>Dials the in-process silos (they listen on the test cluster's in-memory hub, not TCP).</summary>
    public Action<Orleans.Hosting.IClientBuilder> Transport { get; private set; } = null!;

    /// <summary>Options that find the test cluster's gateways in its PostgreSQL membership table.</summary>
    public StorageClientOptions Options(TimeSpan? retryBudget = null) => new()
    {
        ConnectionString = ConnectionString,
        ClusterId = ClusterId,
        ServiceId = ServiceId,
        RetryBudget = retryBudget ?? TimeSpan.FromSeconds(30),
        ConfigureOrleansClient = Transport,
    };

    /// <summary>Runs the CLI in-process against the cluster (global options first, as a user would type them).</summary>
    public async Task<CliRun> RunCliAsync(params string[] args)
    {
        var full = new[] { "--connection-string", ConnectionString, "--cluster-id", ClusterId, "--service-id", ServiceId }.Concat(args).ToArray();
        return await RunCliRawAsync(full, throughTestCluster: true);
    }

    /// <summary>
    /// Runs the CLI with exactly these arguments and only the given environment; with
    /// <paramref name="throughTestCluster"/> its client dials the in-process silos, otherwise real TCP.
    /// </summary>
    public async Task<CliRun> RunCliRawAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null, bool throughTestCluster = false)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Storage.Cli.StorageCli.RunAsync(
            args,
            stdout,
            stderr,
            name => environment is not null && environment.TryGetValue(name, out var v) ? v : null,
            throughTestCluster ? o => o.ConfigureOrleansClient = Transport : null);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public async Task DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClientClusterCollection : ICollectionFixture<ClientClusterFixture>
{
    public const string Name = "client cluster";
}
