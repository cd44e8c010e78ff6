namespace Storage.Raft;

/// <summary>Configuration of one <see cref="RaftNode"/>. Validate with <see cref="Validate"/>.</summary>
public sealed record RaftConfig
{
    /// <summary>This node's id; non-zero, unique and never reused in the group.</summary>
    public long Id { get; init; }

    /// <summary>Ticks without hearing from a leader before a follower campaigns (randomized in [E, 2E)).</summary>
    public int ElectionTick { get; init; } = 10;

    /// <summary>Ticks between leader heartbeats; must be less than <see cref="ElectionTick"/>.</summary>
    public int HeartbeatTick { get; init; } = 1;

    /// <summary>Max bytes of entries in one append message (at least one entry is always sent).</summary>
    public long MaxSizePerMsg { get; init; } = 1024 * 1024;

    /// <summary>Max append messages in flight to one follower while replicating optimistically.</summary>
    public int MaxInflightMsgs { get; init; } = 256;

    public bool PreVote { get; init; } = true;

    public bool CheckQuorum { get; init; } = true;

    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Drift bound subtracted from the lease (see <see cref="ReadOnlyOption.LeaseBased"/>).</summary>
    public int MaxClockDriftTicks { get; init; } = 2;

    /// <summary>
    /// Consecutive idle leader ticks (nothing to persist, commit, apply, read, change or transfer, and every member heard
    /// from within an election timeout holding the whole log) after which the leader quiesces its group: it stops
    /// heartbeating and its followers stop counting election ticks, so the host may stop ticking them
    /// (<see cref="RaftNode.IsQuiesced"/>, <see cref="RaftNode.Wake"/>). 0 (the default) turns quiescence off: the node
    /// then behaves exactly as without the feature. Set it on every replica of a group: one with it off answers the
    /// leader's quiesce heartbeat like a heartbeat, which wakes the leader, so the group stays awake (safe, not idle).
    /// </summary>
    public int QuiesceAfterTicks { get; init; }

    /// <summary>The index the application's state machine has applied (its checkpoint); entries above it are re-delivered.</summary>
    public long Applied { get; init; }

    public void Validate()
    {
        if (Id == 0)
        {
            throw new ArgumentException("Id must be non-zero", nameof(Id));
        }

        if (HeartbeatTick <= 0 || ElectionTick <= HeartbeatTick)
        {
            throw new ArgumentException($"need 0 < HeartbeatTick ({HeartbeatTick}) < ElectionTick ({ElectionTick})");
        }

        if (MaxInflightMsgs <= 0 || MaxSizePerMsg <= 0)
        {
            throw new ArgumentException("MaxInflightMsgs and MaxSizePerMsg must be positive");
        }

        if (ReadOnlyOption == ReadOnlyOption.LeaseBased && !CheckQuorum)
        {
            throw new ArgumentException("lease-based reads require CheckQuorum");
        }

        if (MaxClockDriftTicks < 0 || MaxClockDriftTicks >= ElectionTick)
        {
            throw new ArgumentException($"MaxClockDriftTicks must be in [0, ElectionTick)");
        }

        if (QuiesceAfterTicks < 0)
        {
            throw new ArgumentException($"QuiesceAfterTicks ({QuiesceAfterTicks}) must be 0 (off) or positive");
        }
    }
}
