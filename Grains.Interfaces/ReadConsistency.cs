namespace Storage;

/// <summary>How fresh a read must be. Writes are always linearizable.</summary>
[GenerateSerializer, Alias("Storage.ReadConsistency")]
public enum ReadConsistency
{
    /// <summary>Reflects every write acknowledged before the read started (ReadIndex or lease at the leader).</summary>
    Linearizable = 0,

    /// <summary>Served by any replica; may be stale, never reflects an uncommitted write.</summary>
    Eventual = 1,
}
