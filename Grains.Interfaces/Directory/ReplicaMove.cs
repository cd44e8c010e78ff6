namespace Storage;

/// <summary>How a replica changes silo.</summary>
[GenerateSerializer, Alias("Storage.MoveKind")]
public enum MoveKind
{
    /// <summary>Same replica id, same durable log: hand off leadership, deactivate, activate on the new silo.</summary>
    Relocate = 0,

    /// <summary>A new replica id through Raft membership changes: add a learner, catch up, promote, remove the old one.</summary>
    Replace = 1,
}

/// <summary>
/// One replica move the directory has persisted and not yet seen finished: replica <see cref="ReplicaId"/> of shard
/// <see cref="ShardId"/> leaves silo <see cref="From"/> for <see cref="To"/> (silo names). <see cref="MapVersion"/> is the
/// shard map version that made the move.
/// </summary>
[GenerateSerializer, Alias("Storage.ReplicaMove")]
public sealed record ReplicaMove(
    [property: Id(0)] int ShardId,
    [property: Id(1)] long ReplicaId,
    [property: Id(2)] string From,
    [property: Id(3)] string To,
    [property: Id(4)] MoveKind Kind,
    [property: Id(5)] long MapVersion,
    [property: Id(6)] DateTime StartedAt);
