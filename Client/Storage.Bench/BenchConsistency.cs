namespace Storage.Bench;

/// <summary>How fresh reads must be.</summary>
public enum BenchConsistency
{
    /// <summary>Every read reflects every write acknowledged before it started (store: ReadIndex/lease; etcd: default range).</summary>
    Linearizable,

    /// <summary>Reads may be stale (store: any replica; etcd: serializable range served by the member asked).</summary>
    Eventual,
}
