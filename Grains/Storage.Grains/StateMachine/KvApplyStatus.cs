namespace Storage.StateMachine;

/// <summary>What applying a command did. Values are persisted in snapshots (the exactly-once table): never renumber.</summary>
public enum KvApplyStatus : byte
{
    /// <summary>The write took effect (or, for a delete of a missing key, succeeded without changing anything).</summary>
    Applied = 1,

    /// <summary>A compare-and-swap/delete found another version; nothing changed.</summary>
    Conflict = 2,

    /// <summary>
    /// The write's sequence is lower than the last one applied for its client: it is a late duplicate of a
    /// write the client already moved past, so it was not applied (an earlier copy of it may have been).
    /// </summary>
    Stale = 3,

    /// <summary>
    /// The key's hash is outside the shard's range: the shard was split before this write was applied, so it was
    /// not applied here and belongs to the shard that took the key. Never remembered in the exactly-once table.
    /// </summary>
    WrongShard = 4,
}
