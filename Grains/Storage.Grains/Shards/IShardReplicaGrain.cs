using Orleans.Concurrency;

namespace Storage.Shards;

/// <summary>
/// One replica of one shard's Raft group, keyed "{shard}/{replica}". Server-internal: apps go through
/// <see cref="IStore"/>. Writes and linearizable reads throw <see cref="NotLeaderException"/> when sent to
/// a replica that cannot serve them.
/// </summary>
[Alias("Storage.IShardReplicaGrain")]
public interface IShardReplicaGrain : IGrainWithStringKey
{
    /// <summary>A batch of Raft messages from a peer (<see cref="RaftWireCodec"/>). Loss and reordering are fine.</summary>
    [OneWay, Alias("Deliver")]
    Task Deliver(byte[] batch);

    // Write, Read and Scan answer within ShardReplicaOptions.OperationTimeout (then with ShardBusyException: for a
    // write, outcome unknown). There is no fixed response timeout on them: the caller bounds its wait by that same
    // setting plus a margin for the network (see StoreGrain), so the two cannot drift apart when it is configured.

    // Each request carries the version of the shard map the caller routed it with. A replica whose range was set by a
    // newer version, or that does not own the key, throws WrongShardException with that version (nothing applied):
    // the caller refreshes its map to at least that version and routes again (a write with the same WriteId).

    /// <summary>Proposes an encoded KV command and waits until it is applied.</summary>
    [Alias("Write")]
    Task<WriteResult> Write(byte[] command, long mapVersion);

    [Alias("Read")]
    Task<GetResult> Read(string key, ReadConsistency consistency, long mapVersion);

    /// <summary>
    /// One page of this shard's keys, counting only keys whose hash lies in [<paramref name="rangeStart"/>,
    /// <paramref name="rangeEnd"/>] (the shard's range in the caller's map).
    /// </summary>
    [Alias("Scan")]
    Task<ScanPage> Scan(string prefix, string? continueAfter, int limit, ReadConsistency consistency, long mapVersion, ulong rangeStart, ulong rangeEnd);

    /// <summary>
    /// The directory: proposes an encoded <see cref="StateMachine.SplitCommand"/> and waits until it is applied (within
    /// <see cref="ShardReplicaOptions.OperationTimeout"/>, then <see cref="ShardBusyException"/>). Throws
    /// <see cref="NotLeaderException"/> at a follower and <see cref="InvalidRequestException"/> when the shard refused
    /// the split (it does not fit its range or membership).
    /// </summary>
    [Alias("ProposeSplit")]
    Task<SplitOutcome> ProposeSplit(byte[] command);

    /// <summary>
    /// A hash in (<paramref name="rangeStart"/>, <paramref name="rangeEnd"/>] that halves this replica's keys in that
    /// range, or (<paramref name="byLoad"/>) its recent writes; null when there is no such point (fewer than two keys
    /// or writes, or all on one hash).
    /// </summary>
    [Alias("SplitPoint")]
    Task<ulong?> SplitPoint(ulong rangeStart, ulong rangeEnd, bool byLoad);

    [Alias("Status"), ResponseTimeout("00:00:05")]
    Task<ReplicaStatus> GetStatus();

    /// <summary>Activates the replica (it then stays active while it is a member).</summary>
    [Alias("Ensure")]
    Task Ensure();

    /// <summary>
    /// If this replica leads its group, hands leadership to the most caught-up other voter and waits
    /// (briefly) until it took over. Called on every local leader when a silo shuts down gracefully.
    /// </summary>
    [Alias("HandOff"), ResponseTimeout("00:00:10")]
    Task<bool> HandOffLeadership();

    /// <summary>
    /// Moves the replica to the silo the shard map (version <paramref name="mapVersion"/> or newer) assigns it: hands
    /// off leadership if it leads, then migrates there (its state is in PostgreSQL). Nothing if it runs there already.
    /// </summary>
    [Alias("Relocate"), ResponseTimeout("00:00:10")]
    Task Relocate(long mapVersion);

    /// <summary>
    /// Leader balancing: if this replica leads but <paramref name="preferredReplica"/> (the shard map's
    /// preferred leader, spread evenly over silos) is a caught-up voter, hands leadership to it. True if a
    /// transfer started.
    /// </summary>
    [Alias("PreferLeader")]
    Task<bool> PreferLeader(long preferredReplica);

    /// <summary>Hands leadership to another replica of the group; false if this replica is not the leader.</summary>
    [Alias("Transfer")]
    Task<bool> TransferLeadership(long targetReplica);

    /// <summary>
    /// Leader only: makes one single-node membership change and answers once it is committed and applied here, with
    /// the group's view after it. Idempotent: a change already in effect is answered once committed. A leader asked to
    /// remove itself hands leadership over first and answers <see cref="NotLeaderException"/> naming the new leader.
    /// Throws <see cref="NotLeaderException"/> at a follower, <see cref="ShardBusyException"/> while another change is
    /// not yet committed (retry) or when the change was not confirmed in time (outcome unknown: retry), and
    /// <see cref="InvalidRequestException"/> naming why a change is invalid (promoting a non-learner, removing the last voter).
    /// </summary>
    [Alias("ChangeMembership"), ResponseTimeout("00:00:30")]
    Task<ReplicaGroupView> ChangeMembership(MembershipChangeKind kind, long replicaId);

    /// <summary>This replica's view of its group: committed membership, and at the leader each member's progress.</summary>
    [Alias("Membership"), ResponseTimeout("00:00:05")]
    Task<ReplicaGroupView> GetMembership();

    /// <summary>
    /// For a replica that <paramref name="map"/> (the directory's, which removed it from its group first) no longer
    /// lists: stops it, deletes its log, hard state and checkpoint, and deactivates it. Throws
    /// <see cref="InvalidRequestException"/> if the map still lists it; answers <see cref="ReplicaRemovedException"/> if
    /// it was not active and this silo's map already knew (its activation retired it). The map comes with the call so
    /// that retiring never waits for the directory, which is the caller.
    /// </summary>
    [Alias("Retire"), ResponseTimeout("00:00:30")]
    Task Retire(ShardMap map);
}
