using System.Text;
using Npgsql;
using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>Replicas checkpoint, truncate their log, and a replica restarted afterwards recovers from checkpoint + tail.</summary>
public sealed class CheckpointTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private StorageCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(
            await _postgres.CreateDatabaseAsync("checkpoint"),
            settings: new Dictionary<string, string?> { ["Storage:Replica:CheckpointEntries"] = "20", ["Storage:Directory:InitialShards"] = "2" });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task LogIsTruncatedBelowACheckpointAndARestartedReplicaRecovers()
    {
        var store = _cluster.Store;
        for (var i = 0; i < 120; i++)
        {
            await store.PutAsync($"cp/{i}", Encoding.UTF8.GetBytes($"v{i}"), new WriteId(Guid.NewGuid(), 1));
        }

        // Every replica has checkpointed: its first stored entry is well above the start of the log.
        // (A replica whose whole log is below its checkpoint holds no rows at all: also truncated.)
        var firstIndexes = await WaitForAsync(async () =>
        {
            var rows = await FirstStoredIndexesAsync();
            return rows.Count == 6 && rows.Values.All(first => first is null or > 10) ? rows : null;
        });
        Assert.All(firstIndexes.Values, first => Assert.True(first is null or > 10));
        Assert.Equal(6, await CheckpointRowsAsync());

        // Restart one follower: it comes back from its checkpoint plus the log tail.
        var status = await store.GetStatusAsync();
        var shard = status.Shards[0];
        var follower = shard.Replicas.First(r => r.ReplicaId != shard.LeaderReplica);
        var replica = _cluster.Replica(shard.ShardId, follower.ReplicaId);
        await _cluster.Cluster.DeactivateAsync(replica);
        await store.PutAsync("cp/after-restart", Encoding.UTF8.GetBytes("x"), new WriteId(Guid.NewGuid(), 1));

        var map = await _cluster.ShardMapAsync();
        var early = Enumerable.Range(0, 120).Select(i => $"cp/{i}").First(k => map.ShardFor(k).ShardId == shard.ShardId);
        var restarted = await WaitForAsync(async () =>
        {
            var s = await replica.GetStatus();
            return s.Incarnation > follower.Incarnation && s.AppliedIndex >= s.CommitIndex && s.CommitIndex > 0 ? s : null;
        });
        var read = await replica.Read(early, ReadConsistency.Eventual, map.Version);
        Assert.True(read.Found, "data from below the checkpoint is missing after the restart");
        Assert.True(restarted.AppliedIndex > (firstIndexes[$"{shard.ShardId}/{follower.ReplicaId}"] ?? 10));
    }

    /// <summary>Each replica's lowest stored log index (null when it stores no entry).</summary>
    private async Task<Dictionary<string, long?>> FirstStoredIndexesAsync()
    {
        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT h.replica_id, (SELECT min(idx) FROM raft_log l WHERE l.replica_id = h.replica_id) FROM raft_hard_state h", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var result = new Dictionary<string, long?>();
        while (await reader.ReadAsync())
        {
            result[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetInt64(1);
        }

        return result;
    }

    /// <summary>Checkpoints saved through Orleans grain storage (state name "checkpoint").</summary>
    private async Task<long> CheckpointRowsAsync()
    {
        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = 'checkpoint'", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static Task<T> WaitForAsync<T>(Func<Task<T?>> probe)
        where T : class => Eventually.WaitForAsync(probe, 200);
}
