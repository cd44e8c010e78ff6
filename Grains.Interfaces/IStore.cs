namespace Storage;

/// <summary>
/// The app-facing entry to the store: a stateless router on every silo (call it with any key, e.g. 0).
/// Writes are linearizable and exactly-once per <see cref="WriteId"/>: retry a write whose outcome is
/// unknown with the same id. Errors are <see cref="StorageException"/> subtypes.
/// </summary>
[Alias("Storage.IStore")]
public interface IStore : IGrainWithIntegerKey
{
    /// <summary>Reads a key; <see cref="GetResult.Found"/> is false (version 0) when it does not exist.</summary>
    [Alias("Get")]
    Task<GetResult> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable);

    /// <summary>Writes a key unconditionally; the result's version is the new version.</summary>
    [Alias("Put")]
    Task<WriteResult> PutAsync(string key, byte[] value, WriteId id);

    /// <summary>Deletes a key; deleting a missing key succeeds with <see cref="WriteResult.Existed"/> false.</summary>
    [Alias("Delete")]
    Task<WriteResult> DeleteAsync(string key, WriteId id);

    /// <summary>
    /// Writes a key only if its version is <paramref name="expectedVersion"/> (0 = the key must not exist);
    /// otherwise throws <see cref="VersionConflictException"/> and changes nothing.
    /// </summary>
    [Alias("Cas")]
    Task<WriteResult> CompareAndSwapAsync(string key, long expectedVersion, byte[] value, WriteId id);

    /// <summary>Keys starting with <paramref name="prefix"/>, across all shards, in ordinal key order, one page at a time.</summary>
    [Alias("Scan")]
    Task<ScanPage> ScanAsync(string prefix, string? continueAfter, int limit, ReadConsistency consistency = ReadConsistency.Linearizable);

    /// <summary>Silos with their region and zone, and every shard with its leader, replicas, commit index and apply lag.</summary>
    [Alias("Status")]
    Task<ClusterStatus> GetStatusAsync();

    /// <summary>
    /// Operators: asks the cluster to move every replica and leader off silo <paramref name="silo"/> (its name), e.g.
    /// before it is removed for good. Returns once the drain is recorded; the moves follow in bounded steps (watch
    /// <see cref="GetStatusAsync"/>). The silo gets nothing new until <see cref="UndrainAsync"/>.
    /// Throws <see cref="InvalidRequestException"/> for a silo the cluster does not know.
    /// </summary>
    [Alias("Drain")]
    Task DrainAsync(string silo);

    /// <summary>Operators: ends a drain; the silo is filled again gradually.</summary>
    [Alias("Undrain")]
    Task UndrainAsync(string silo);

    /// <summary>
    /// Operators: splits shard <paramref name="shardId"/> at hash <paramref name="splitAt"/> (default: the hash that
    /// halves its keys). Returns the shard map version that has the new shard, once every replica of the shard
    /// applied the split and the map was published. Throws <see cref="InvalidRequestException"/> for an unknown
    /// shard or a split point outside the shard's range.
    /// </summary>
    [Alias("Split")]
    Task<long> SplitAsync(int shardId, ulong? splitAt = null);

    /// <summary>
    /// Operators: replaces replica <paramref name="replicaId"/> of shard <paramref name="shardId"/> with a new replica on
    /// silo <paramref name="silo"/> (its name) through Raft membership changes, one at a time: the new replica joins as a
    /// learner, catches up, is promoted to voter, then the old one is removed (after handing leadership over if it
    /// leads) and its durable state deleted. Returns the new replica's id once the change is recorded; the steps follow
    /// (watch <see cref="GetStatusAsync"/>: the change is listed among the moves until it is done). Asking again for
    /// the same replacement returns the same id. Throws <see cref="InvalidRequestException"/>, changing nothing, for an
    /// unknown shard or replica, an unknown, inactive or draining silo, a silo that already holds a replica of the
    /// shard, or a shard with another change in progress.
    /// </summary>
    [Alias("ReplaceReplica")]
    Task<long> ReplaceReplicaAsync(int shardId, long replicaId, string silo);
}
