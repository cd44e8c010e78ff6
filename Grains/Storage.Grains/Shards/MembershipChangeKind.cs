namespace Storage.Shards;

/// <summary>One single-node Raft membership change, as the directory asks a shard's leader for it.</summary>
[GenerateSerializer, Alias("Storage.MembershipChangeKind")]
public enum MembershipChangeKind
{
    /// <summary>Add a non-voting member; it receives the log (or a snapshot) and catches up.</summary>
    AddLearner = 0,

    /// <summary>Make a member (normally a caught-up learner) a voter.</summary>
    Promote = 1,

    /// <summary>Remove a voter or learner from the group.</summary>
    Remove = 2,
}
