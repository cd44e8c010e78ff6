using System.Diagnostics.Metrics;
using System.Text;
using Storage.Shards;
using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>A silo stopping gracefully hands its leaderships over before it leaves.</summary>
public sealed class GracefulShutdownTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private StorageCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(await _postgres.CreateDatabaseAsync("graceful"));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task LeadersOnAStoppingSiloHandOverAndWritesCarryOn()
    {
        var status = await _cluster.WaitForPreferredLeadersAsync(TimeSpan.FromSeconds(60));
        var leaders = status.Shards.Select(s => s.Replicas.Single(r => r.ReplicaId == s.LeaderReplica)).ToList();
        var busiest = leaders.GroupBy(r => r.Silo).OrderByDescending(g => g.Count()).First();

        long handoffs = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ReplicaMetrics.MeterName && instrument.Name == "storage.replica.handoffs")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref handoffs, value));
        listener.Start();

        await _cluster.Cluster.StopSiloAsync(_cluster.SiloFor(busiest.Key));

        Assert.Equal(busiest.Count(), Interlocked.Read(ref handoffs));
        var after = await _cluster.Store.PutAsync("graceful/after", Encoding.UTF8.GetBytes("x"), new WriteId(Guid.NewGuid(), 1));
        Assert.Equal(after.Version, (await _cluster.Store.GetAsync("graceful/after")).Version);
        var moved = await _cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        Assert.All(moved.Shards, s => Assert.NotEqual(busiest.Key, s.Replicas.Single(r => r.ReplicaId == s.LeaderReplica).Silo));
    }
}
