namespace Storage.Raft;

/// <summary>Kinds of messages between the nodes of one group (etcd-raft's set, less the local-only ones).</summary>
public enum MessageType : byte
{
    App = 1,
    AppResp = 2,
    Vote = 3,
    VoteResp = 4,
    PreVote = 5,
    PreVoteResp = 6,
    Heartbeat = 7,
    HeartbeatResp = 8,
    Snap = 9,
    TimeoutNow = 10,
    ReadIndex = 11,
    ReadIndexResp = 12,
}

/// <summary>
/// One Raft message. Field meaning depends on <see cref="Type"/>, as in etcd-raft:
/// for App, (Index, LogTerm) is the entry before <see cref="Entries"/>; for Vote/PreVote, the sender's
/// last log position; for AppResp, the index acknowledged or rejected, with a conflict hint on rejection.
/// </summary>
public sealed record Message
{
    public MessageType Type { get; init; }
    public long From { get; init; }
    public long To { get; init; }
    public long Term { get; init; }
    public long LogTerm { get; init; }
    public long Index { get; init; }
    public IReadOnlyList<Entry> Entries { get; init; } = Array.Empty<Entry>();
    public long Commit { get; init; }
    public bool Reject { get; init; }
    public long RejectHint { get; init; }
    public Snapshot? Snapshot { get; init; }

    /// <summary>Read round (heartbeats) or the caller's read context (ReadIndex).</summary>
    public long Context { get; init; }

    /// <summary>A vote requested by leadership transfer: overrides a follower's leader lease.</summary>
    public bool Transfer { get; init; }

    /// <summary>
    /// On a Heartbeat: the leader quiesces the group and stops heartbeating. (Index, LogTerm) is the leader's last
    /// entry; a follower whose log ends there quiesces too and does not answer; any other follower answers as to a
    /// heartbeat, and that answer (Context 0) wakes the leader.
    /// </summary>
    public bool Quiesce { get; init; }

    public override string ToString() =>
        $"{Type} {From}->{To} t{Term} idx={Index} lt={LogTerm} n={Entries.Count} c={Commit}" +
        (Reject ? $" reject hint={RejectHint}" : "") + (Context != 0 ? $" ctx={Context}" : "") + (Quiesce ? " quiesce" : "") +
        (Snapshot is null ? "" : $" snap@{Snapshot.Index}");
}
