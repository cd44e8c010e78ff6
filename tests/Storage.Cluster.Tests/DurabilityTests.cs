using System.Text;
using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>Every silo stops; a new cluster on the same database has all the data.</summary>
public sealed class DurabilityTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();

    public Task InitializeAsync() => _postgres.InitializeAsync();

    public Task DisposeAsync() => _postgres.DisposeAsync();

    [Fact]
    public async Task ANewClusterOnTheSameDatabaseHasEveryWrite()
    {
        var db = await _postgres.CreateDatabaseAsync("durable");
        var written = new Dictionary<string, long>();
        await using (var first = await StorageCluster.StartAsync(db))
        {
            for (var i = 0; i < 40; i++)
            {
                var key = $"durable/{i}";
                written[key] = (await first.Store.PutAsync(key, Encoding.UTF8.GetBytes($"v{i}"), new WriteId(Guid.NewGuid(), 1))).Version;
            }

            await first.Store.DeleteAsync("durable/0", new WriteId(Guid.NewGuid(), 1));
            written.Remove("durable/0");
        }

        await using var second = await StorageCluster.StartAsync(db);
        foreach (var (key, version) in written)
        {
            var read = await second.Store.GetAsync(key);
            Assert.True(read.Found, $"{key} missing after restart");
            Assert.Equal(version, read.Version);
            Assert.Equal($"v{key["durable/".Length..]}", Encoding.UTF8.GetString(read.Value!));
        }

        Assert.False((await second.Store.GetAsync("durable/0")).Found);
        var more = await second.Store.PutAsync("durable/1", Encoding.UTF8.GetBytes("next"), new WriteId(Guid.NewGuid(), 1));
        Assert.True(more.Version > written["durable/1"]);
    }
}
