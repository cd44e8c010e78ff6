using Orleans.Hosting;
using Orleans.TestingHost;
using Storage.TestKit;

namespace Storage.Persistence.Tests;

/// <summary>
/// Two in-process silos and a client whose membership, gateway list and grain storage all go through
/// the Orleans ADO.NET providers against this project's schema — nothing of the test cluster's in-memory
/// membership is left. Has its own PostgreSQL so that its collection runs beside the other tests.
/// </summary>
public sealed class OrleansClusterFixture : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public string ConnectionString { get; private set; } = string.Empty;

    public string ClusterId => Cluster.Options.ClusterId;

    public string ServiceId => Cluster.Options.ServiceId;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        ConnectionString = await _postgres.CreateDatabaseAsync("orleans");
        var connectionString = ConnectionString;

        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        TestClusterMembership.UseRealMembership(builder.Options);
        builder.ConfigureSilo((_, silo) => silo
            .UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            })
            .AddAdoNetGrainStorage(OrleansAdoNetTests.StorageName, o =>
            {
                // Grain storage defaults to SQL Server: the invariant must be set.
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            }));
        builder.ConfigureClient(client => client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connectionString;
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class OrleansClusterCollection : ICollectionFixture<OrleansClusterFixture>
{
    public const string Name = "orleans";
}
