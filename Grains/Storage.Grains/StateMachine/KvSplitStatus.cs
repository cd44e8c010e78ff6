namespace Storage.StateMachine;

/// <summary>What applying a <see cref="SplitCommand"/> did.</summary>
public enum KvSplitStatus
{
    /// <summary>The range was split at this entry; the result carries the new shard's state.</summary>
    Split = 1,

    /// <summary>An earlier entry already split the range at or below this split point with this map version or a newer one: a re-proposal, nothing changed.</summary>
    AlreadySplit = 2,

    /// <summary>The command does not fit the shard's range or membership (it was planned from another map); nothing changed.</summary>
    Refused = 3,
}
