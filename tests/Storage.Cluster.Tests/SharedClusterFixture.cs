using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>One PostgreSQL and one 3-silo cluster for the tests that do not kill anything.</summary>
public sealed class SharedClusterFixture : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();

    public StorageCluster Cluster { get; private set; } = null!;

    public IStore Store => Cluster.Store;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        Cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("shared"));
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
public sealed class SharedClusterCollection : ICollectionFixture<SharedClusterFixture>
{
    public const string Name = "shared cluster";
}
