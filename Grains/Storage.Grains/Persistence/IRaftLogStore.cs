namespace Storage.Persistence;

/// <summary>The durable copy of the replicas' Raft logs and hard states, fenced by incarnation.</summary>
public interface IRaftLogStore
{
    /// <summary>
    /// Atomically increments and returns the replica's incarnation (1 for a new replica). Call once per
    /// activation, before loading; from then on writes of every older incarnation are fenced.
    /// </summary>
    Task<long> AcquireIncarnationAsync(string replicaId, CancellationToken ct = default);

    /// <summary>The hard state (null if none) and every entry with index &gt; <paramref name="afterIndex"/>, in index order.</summary>
    Task<StoredReplicaLog> LoadAsync(string replicaId, long afterIndex, CancellationToken ct = default);

    /// <summary>
    /// Applies all <paramref name="writes"/> in one transaction (group commit) and returns one outcome per
    /// write, in the same order. Writes of one replica apply in list order. A write whose incarnation is not
    /// the replica's current one is not applied (<see cref="WriteOutcome.Fenced"/>); the others still commit.
    /// Concurrent calls touching the same replica are serialised. If this throws, the outcome of every write
    /// is unknown (the commit may or may not have happened).
    /// </summary>
    Task<IReadOnlyList<WriteOutcome>> WriteBatchAsync(IReadOnlyList<ReplicaLogWrite> writes, CancellationToken ct = default);

    /// <summary>
    /// Deletes the replica's log and hard state and fences every existing incarnation. The fencing row is
    /// kept as a tombstone so that a stale activation can never write again, even if the id came back.
    /// </summary>
    Task DeleteReplicaAsync(string replicaId, CancellationToken ct = default);
}
