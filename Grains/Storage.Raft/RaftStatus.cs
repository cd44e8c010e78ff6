namespace Storage.Raft;

/// <summary>The leader's view of one member's replication.</summary>
public readonly record struct FollowerStatus(long Match, long Next, ProgressState State, bool IsLearner, bool RecentActive);

/// <summary>A point-in-time view of a node, for operators and membership decisions (e.g. "is the learner caught up?").</summary>
public sealed record RaftStatus(
    long Id,
    long Term,
    long Vote,
    long Leader,
    RaftRole Role,
    long Commit,
    long Applied,
    long FirstIndex,
    long LastIndex,
    ConfState Conf,
    long LeadTransferee,
    IReadOnlyDictionary<long, FollowerStatus> Progress)
{
    /// <summary>The node is quiesced (<see cref="RaftNode.IsQuiesced"/>): the host need not tick it.</summary>
    public bool Quiesced { get; init; }
}
