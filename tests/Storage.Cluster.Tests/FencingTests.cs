using System.Text;
using Npgsql;
using Storage.Persistence;
using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>A duplicate activation takes a newer incarnation: the older one cannot write another byte.</summary>
public sealed class FencingTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private StorageCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("fencing"), settings: new Dictionary<string, string?> { ["Storage:Directory:InitialShards"] = "1" });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task OlderIncarnationIsFencedOffAndTheGroupCarriesOn()
    {
        var store = _cluster.Store;
        await store.PutAsync("fence/before", Encoding.UTF8.GetBytes("1"), new WriteId(Guid.NewGuid(), 1));
        var status = await store.GetStatusAsync();
        var shard = status.Shards[0];
        var victim = shard.Replicas.First(r => r.ReplicaId == shard.LeaderReplica);
        var key = $"{shard.ShardId}/{victim.ReplicaId}";

        // What a duplicate activation does first: take the next incarnation.
        await using var logStore = new PostgresLogStore(_cluster.ConnectionString);
        var duplicate = await logStore.AcquireIncarnationAsync(key);
        Assert.Equal(victim.Incarnation + 1, duplicate);

        // The original activation's next durable write is refused; it stops and comes back under a newer incarnation.
        var acknowledged = new List<(string Key, long Version)>();
        for (var i = 0; i < 10; i++)
        {
            var k = $"fence/{i}";
            acknowledged.Add((k, (await store.PutAsync(k, Encoding.UTF8.GetBytes(k), new WriteId(Guid.NewGuid(), 1))).Version));
        }

        var replica = _cluster.Replica(shard.ShardId, victim.ReplicaId);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        ReplicaStatus now;
        do
        {
            await Task.Delay(200);
            now = await replica.GetStatus();
        }
        while (now.Incarnation <= duplicate && DateTime.UtcNow < deadline);

        Assert.True(now.Incarnation > duplicate, $"replica still runs incarnation {now.Incarnation}");
        Assert.Equal(WriteOutcome.Fenced, (await logStore.WriteBatchAsync(new[] { new ReplicaLogWrite(key, victim.Incarnation, new Raft.HardState(99, 0, 0), Array.Empty<Raft.Entry>()) }))[0]);
        Assert.NotEqual(99, await StoredTermAsync(key));

        foreach (var (k, version) in acknowledged)
        {
            Assert.Equal(version, (await store.GetAsync(k)).Version);
        }
    }

    private async Task<long> StoredTermAsync(string replica)
    {
        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT term FROM raft_hard_state WHERE replica_id = @r", conn);
        cmd.Parameters.AddWithValue("r", replica);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
