namespace Storage.Directory;

/// <summary>Why the directory changes a shard's Raft membership.</summary>
[GenerateSerializer, Alias("Storage.Directory.MembershipChangeReason")]
public enum MembershipChangeReason
{
    /// <summary>An operator (or a placement policy) replaces one replica with a new one on another silo.</summary>
    Replace = 0,

    /// <summary>The shard's voter count differs from the configured replication factor.</summary>
    ReplicationFactor = 1,
}

/// <summary>
/// A membership change of one shard in progress, persisted in <see cref="DirectoryState"/> before any of it is acted
/// on: replica <see cref="Joining"/> (0: none) joins on <see cref="TargetSilo"/> as a learner, catches up and is
/// promoted; then replica <see cref="Leaving"/> (0: none) is removed from the group, dropped from the map and retired.
/// A replacement has both; a replication-factor change one of them. The joining replica is in the map (as a learner)
/// from the version that recorded the change. <see cref="CatchUpTo"/> is the leader's commit index once the learner
/// was added (0 before): the learner is promoted when it matches the leader that far. Every other step is decided
/// from the map and the group's committed membership (<see cref="MembershipChangeSteps"/>), so a new directory
/// activation carries on from wherever the last one stopped.
/// </summary>
[GenerateSerializer, Alias("Storage.Directory.MembershipChange")]
public sealed record MembershipChange(
    [property: Id(0)] int ShardId,
    [property: Id(1)] long Joining,
    [property: Id(2)] long Leaving,
    [property: Id(3)] string TargetSilo,
    [property: Id(4)] MembershipChangeReason Reason,
    [property: Id(5)] DateTime StartedAt,
    [property: Id(6)] long CatchUpTo = 0);
