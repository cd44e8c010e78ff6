namespace Storage.Raft;

public enum ReadOnlyOption : byte
{
    /// <summary>ReadIndex confirmed by a heartbeat round with a quorum: safe under any clock behaviour.</summary>
    Safe = 0,

    /// <summary>
    /// Served at the commit index while the leader holds a lease: a quorum acknowledged a heartbeat
    /// round that started less than <c>ElectionTick - MaxClockDriftTicks</c> ticks ago. Correct only if
    /// no node's ticks run slower than the leader's by more than the drift bound over an election
    /// timeout (pauses count as drift). Requires CheckQuorum.
    /// </summary>
    LeaseBased = 1,
}
