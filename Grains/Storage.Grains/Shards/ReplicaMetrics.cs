using System.Diagnostics.Metrics;

namespace Storage.Shards;

/// <summary>Replica counters (meter <c>Storage.Replica</c>), shared by every replica on the silo.</summary>
public sealed class ReplicaMetrics : IDisposable
{
    public const string MeterName = "Storage.Replica";
    private readonly Meter meter;

    public ReplicaMetrics(IMeterFactory? meterFactory = null)
    {
        meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Applied = meter.CreateCounter<long>("storage.replica.applied", "entries", "Log entries applied to the state machine");
        LeaderChanges = meter.CreateCounter<long>("storage.replica.leader_changes", "events", "Times a replica on this silo became leader");
        Handoffs = meter.CreateCounter<long>("storage.replica.handoffs", "events", "Leaderships handed over because the silo was stopping");
        Checkpoints = meter.CreateCounter<long>("storage.replica.checkpoints", "checkpoints", "Checkpoints written (log truncated below them)");
    }

    public Counter<long> Applied { get; }

    public Counter<long> LeaderChanges { get; }

    public Counter<long> Checkpoints { get; }

    public Counter<long> Handoffs { get; }

    public void Dispose() => meter.Dispose();
}
