namespace Storage.Shards;

/// <summary>
/// A replica's view of its Raft group, for membership decisions. <see cref="Voters"/> and <see cref="Learners"/> are the
/// membership as of the replica's commit index (a change only counts once committed); <see cref="Match"/> is the
/// leader's replication progress per member (how far each member's log is known to match the leader's), empty unless
/// <see cref="IsLeader"/>. <see cref="FirstIndex"/> is the first entry its log still holds (above 1 once it checkpointed
/// and truncated: a member that needs older entries gets a snapshot).
/// </summary>
[GenerateSerializer, Alias("Storage.ReplicaGroupView")]
public sealed record ReplicaGroupView(
    [property: Id(0)] long ReplicaId,
    [property: Id(1)] bool IsLeader,
    [property: Id(2)] long Leader,
    [property: Id(3)] long Term,
    [property: Id(4)] long Commit,
    [property: Id(5)] long LastIndex,
    [property: Id(6)] IReadOnlyList<long> Voters,
    [property: Id(7)] IReadOnlyList<long> Learners,
    [property: Id(8)] IReadOnlyDictionary<long, long> Match,
    [property: Id(9)] long FirstIndex = 1)
{
    public bool IsVoter(long replica) => Voters.Contains(replica);

    public bool IsLearner(long replica) => Learners.Contains(replica);

    public bool IsMember(long replica) => IsVoter(replica) || IsLearner(replica);

    /// <summary>The leader's match index for <paramref name="replica"/>, 0 if unknown.</summary>
    public long MatchOf(long replica) => Match.TryGetValue(replica, out var match) ? match : 0;
}
