using System.Text;
using Storage.Bench.Baseline;
using Storage.TestKit;
using Xunit;

namespace Storage.Bench.Tests;

/// <summary>
/// The plain Orleans baseline on a real silo (wired like the product): the silo hosts the grain from its own
/// assembly, and its state goes through the grain storage provider the silo configures, so that a new activation
/// reads back what the last one wrote.
/// </summary>
public sealed class PlainKeyGrainTests : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private readonly PostgresFixture _postgres;
    private StorageCluster? _cluster;

    public PlainKeyGrainTests(PostgresFixture postgres) => _postgres = postgres;

    private StorageCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    // One silo is enough for the baseline; the store beside it then needs a replication factor of 1 to start.
    public async Task InitializeAsync() =>
        _cluster = await StorageCluster.StartAsync(
            await _postgres.CreateDatabaseAsync("baseline"),
            silos: 1,
            settings: new Dictionary<string, string?>
            {
                ["Storage:Directory:InitialShards"] = "1",
                ["Storage:Directory:ReplicationFactor"] = "1",
            });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task State_is_written_to_grain_storage_and_read_back_by_a_new_activation()
    {
        var grain = Cluster.Client.GetGrain<IPlainKeyGrain>("k1");
        Assert.Null(await grain.GetAsync());
        Assert.Equal(1, await grain.SetAsync(Encoding.UTF8.GetBytes("one")));
        Assert.Equal(2, await grain.SetAsync(Encoding.UTF8.GetBytes("two")));

        await DeactivateAsync(grain);

        Assert.Equal("two", Encoding.UTF8.GetString(await grain.GetAsync() ?? []));
        Assert.Equal(3, await grain.SetAsync(Encoding.UTF8.GetBytes("three")));
    }

    private async Task DeactivateAsync(IPlainKeyGrain grain)
    {
        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        var id = grain.GetGrainId();
        await management.DeactivateGrain(id);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await management.GetActiveGrains(id.Type)).Contains(id))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{id} was still active 30 s after DeactivateGrain");
            await Task.Delay(50);
        }
    }
}
