using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>Leaders end up on each shard's preferred replica, which the shard map spreads evenly over silos.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class LeaderBalanceTests
{
    private readonly SharedClusterFixture _fixture;

    public LeaderBalanceTests(SharedClusterFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task EveryShardIsLedByItsPreferredReplica()
    {
        var map = await _fixture.Cluster.ShardMapAsync();
        var preferred = map.Shards.ToDictionary(s => s.ShardId, s => s.Replicas[0].ReplicaId);
        var status = await _fixture.Cluster.WaitForPreferredLeadersAsync(TimeSpan.FromSeconds(60));
        Assert.All(status.Shards, s => Assert.Equal(preferred[s.ShardId], s.LeaderReplica));
        // 4 shards over 3 silos: every silo leads at least one.
        var leaderSilos = status.Shards.Select(s => s.Replicas.Single(r => r.ReplicaId == s.LeaderReplica).Silo).Distinct().Count();
        Assert.Equal(3, leaderSilos);
    }
}
