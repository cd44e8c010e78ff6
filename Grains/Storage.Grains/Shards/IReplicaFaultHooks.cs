namespace Storage.Shards;

/// <summary>
/// What a replica asks of fault injection (tests and demos only). Production silos use
/// <see cref="NoReplicaFaultHooks"/>; a fault-injection package registers its own implementation.
/// </summary>
public interface IReplicaFaultHooks
{
    /// <summary>True while the replica must behave as a stalled process: no ticks, no lease reads.</summary>
    bool IsPaused(string replicaKey);
}
