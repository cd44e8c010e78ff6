namespace Storage.Shards;

/// <summary>The production default: nothing is ever injected.</summary>
public sealed class NoReplicaFaultHooks : IReplicaFaultHooks
{
    public static readonly NoReplicaFaultHooks Instance = new();

    public bool IsPaused(string replicaKey) => false;
}
