using System.Diagnostics.Metrics;

namespace Storage.Shards;

/// <summary>Replica counters (meter <c>Storage.Replica</c>), shared by every replica on the silo.</summary>
public sealed class ReplicaMetrics : IDisposable
{
    public const string MeterName = "Storage.Replica";
    private readonly Meter _meter;

    public ReplicaMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Applied = _meter.CreateCounter<long>("storage.replica.applied", "entries", "Log entries applied to the state machine");
        LeaderChanges = _meter.CreateCounter<long>("storage.replica.leader_changes", "events", "Times a replica on this silo became leader");
        Handoffs = _meter.CreateCounter<long>("storage.replica.handoffs", "events", "Leaderships handed over because the silo was stopping");
        Checkpoints = _meter.CreateCounter<long>("storage.replica.checkpoints", "checkpoints", "Checkpoints written (log truncated below them)");
        Relocations = _meter.CreateCounter<long>("storage.replica.relocations", "moves", "Stand-in replicas asked to move back to their home silo");
        Splits = _meter.CreateCounter<long>("storage.replica.splits", "splits", "Shard splits applied by a replica on this silo (each replica of the parent counts one)");
        RelocationsFailed = _meter.CreateCounter<long>("storage.replica.relocations_failed", "moves", "Moves home that did not land there (the replica then backs off)");
    }

    public Counter<long> Applied { get; }

    public Counter<long> LeaderChanges { get; }

    public Counter<long> Checkpoints { get; }

    public Counter<long> Handoffs { get; }

    public Counter<long> Splits { get; }

    /// <summary>Counted by the keeper of the silo a stand-in leaves, once per move it asks for.</summary>
    public Counter<long> Relocations { get; }

    /// <summary>Counted by the same keeper when it finds the replica did not land on its home silo.</summary>
    public Counter<long> RelocationsFailed { get; }

    public void Dispose() => _meter.Dispose();
}
