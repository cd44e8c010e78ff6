namespace Storage.Shards;

/// <summary>Tuning of every replica on a silo (configuration section <c>Storage:Replica</c>).</summary>
public sealed class ShardReplicaOptions
{
    /// <summary>Raft tick period. Election timeout is <see cref="ElectionTicks"/> ticks (randomized up to twice that).</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    public int ElectionTicks { get; set; } = 10;

    public int HeartbeatTicks { get; set; } = 2;

    public long MaxSizePerMsg { get; set; } = 1024 * 1024;

    /// <summary>
    /// Linearizable reads on a leader holding a lease are answered without a heartbeat round. The lease is the Raft
    /// core's (an election timeout less <see cref="LeaseDriftTicks"/> from the start of a heartbeat round a quorum
    /// confirmed), counted in ticks that the replica keeps in step with the monotonic clock: a leader that was paused
    /// or starved catches up on its ticks before it answers, so its lease has run out by then. False: every
    /// linearizable read waits for a heartbeat round (ReadIndex).
    /// </summary>
    public bool LeaseReads { get; set; } = true;

    /// <summary>
    /// Ticks taken off the lease. Two cover tick granularity exactly (the leader's count lags the clock by up to a
    /// tick; a follower counts its election timeout from a heartbeat that may arrive mid-tick); the rest is margin for
    /// clock-rate differences between machines.
    /// </summary>
    public int LeaseDriftTicks { get; set; } = 3;

    public int MaxInflightMsgs { get; set; } = 256;

    /// <summary>Checkpoint (snapshot to grain storage, then truncate the log) after this many applied entries...</summary>
    public int CheckpointEntries { get; set; } = 10_000;

    /// <summary>...or after this many applied bytes, whichever comes first.</summary>
    public long CheckpointBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long a write or read waits at the replica before reporting the shard busy (outcome unknown for writes).</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
