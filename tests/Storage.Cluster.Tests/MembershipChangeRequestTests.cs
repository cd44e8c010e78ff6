using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>Replacement requests that cannot be carried out are refused with <see cref="InvalidRequestException"/>, changing nothing.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class MembershipChangeRequestTests
{
    private readonly SharedClusterFixture _fixture;

    public MembershipChangeRequestTests(SharedClusterFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task InvalidReplacementsAreRefusedAndChangeNothing()
    {
        var store = _fixture.Store;
        var map = await _fixture.Cluster.ShardMapAsync();
        var shard = map.Shards[0];
        var replica = shard.Replicas[1];
        var otherShardsReplica = map.Shards[1].Replicas[0].ReplicaId;
        var holding = shard.Replicas[2].SiloKey;

        var refused = new (string Case, Func<Task> Call, string Names)[]
        {
            ("unknown shard", () => store.ReplaceReplicaAsync(9999, replica.ReplicaId, holding), "unknown shard 9999"),
            ("unknown replica", () => store.ReplaceReplicaAsync(shard.ShardId, 9999, holding), "no replica 9999"),
            ("another shard's replica", () => store.ReplaceReplicaAsync(shard.ShardId, otherShardsReplica, holding), $"no replica {otherShardsReplica}"),
            ("a silo holding the shard", () => store.ReplaceReplicaAsync(shard.ShardId, replica.ReplicaId, holding), "already holds a replica"),
            ("the replica's own silo", () => store.ReplaceReplicaAsync(shard.ShardId, replica.ReplicaId, replica.SiloKey), "already holds a replica"),
            ("an unknown silo", () => store.ReplaceReplicaAsync(shard.ShardId, replica.ReplicaId, "no-such-silo"), "unknown silo 'no-such-silo'"),
            ("no silo", () => store.ReplaceReplicaAsync(shard.ShardId, replica.ReplicaId, ""), "unknown silo"),
        };
        foreach (var (name, call, names) in refused)
        {
            var e = await Assert.ThrowsAsync<InvalidRequestException>(call);
            Assert.True(e.Message.Contains(names, StringComparison.Ordinal), $"{name}: '{e.Message}' does not say '{names}'");
        }

        var after = await _fixture.Cluster.ShardMapAsync();
        Assert.Equal(map, after);
        Assert.Empty((await _fixture.Cluster.Client.GetGrain<Storage.Directory.IDirectoryGrain>(0).GetPlacement()).Moves);
    }
}
