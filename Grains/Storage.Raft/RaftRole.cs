namespace Storage.Raft;

public enum RaftRole : byte
{
    Follower = 0,
    PreCandidate = 1,
    Candidate = 2,
    Leader = 3,
}

/// <summary>Volatile state the application may want to react to (e.g. fail waiters when leadership is lost).</summary>
public readonly record struct SoftState(long Leader, RaftRole Role);

/// <summary>A linearizable read may be served once the local state machine has applied <see cref="Index"/>.</summary>
public readonly record struct ReadState(long Index, long Context);
