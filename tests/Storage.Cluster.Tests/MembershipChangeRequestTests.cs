using Storage.Shards;
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

    [Fact]
    public async Task AReplicaRefusesInvalidMembershipChangesAndRepeatsOfDoneOnesChangeNothing()
    {
        var map = await _fixture.Cluster.ShardMapAsync();
        var shard = map.Shards[0];
        var status = await _fixture.Store.GetStatusAsync();
        var leaderId = status.Shards.Single(s => s.ShardId == shard.ShardId).LeaderReplica;
        Assert.NotEqual(0, leaderId);
        var leader = _fixture.Cluster.Replica(shard.ShardId, leaderId);
        var follower = _fixture.Cluster.Replica(shard.ShardId, shard.Replicas.First(r => r.ReplicaId != leaderId).ReplicaId);
        var before = await leader.GetMembership();
        Assert.True(before.IsLeader);
        Assert.Equal(shard.Replicas.Select(r => r.ReplicaId).Order(), before.Voters.Order());
        Assert.Equal(shard.Replicas.Select(r => r.ReplicaId).Order(), before.Match.Keys.Order());

        var notLeader = await Assert.ThrowsAsync<NotLeaderException>(() => follower.ChangeMembership(MembershipChangeKind.Promote, 9999));
        Assert.Equal(leaderId, notLeader.Leader);
        var notLearner = await Assert.ThrowsAsync<InvalidRequestException>(() => leader.ChangeMembership(MembershipChangeKind.Promote, 9999));
        Assert.Contains("not a learner", notLearner.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidRequestException>(() => leader.ChangeMembership(MembershipChangeKind.AddLearner, 0));

        // Already in effect: answered with the group as it is.
        var again = await leader.ChangeMembership(MembershipChangeKind.AddLearner, shard.Replicas[^1].ReplicaId);
        Assert.Equal(before.Voters.Order(), again.Voters.Order());
        Assert.Empty(again.Learners);
        var retired = await Assert.ThrowsAsync<InvalidRequestException>(() => follower.Retire(map));
        Assert.Contains("still in shard map", retired.Message, StringComparison.Ordinal);
        Assert.Equal(before.Voters.Order(), (await leader.GetMembership()).Voters.Order());
    }
}
