namespace Storage.Directory;

/// <summary>
/// Owns the versioned, persisted shard map (single activation, key 0) and the rebalancer that keeps it following
/// the silos: moves, drains, splits and membership changes, one persisted step at a time.
/// </summary>
[Alias("Storage.IDirectoryGrain")]
public interface IDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The shard map, created on first use once enough silos are members; null until then.</summary>
    [Alias("GetShardMap")]
    Task<ShardMap?> GetShardMap();

    /// <summary>Moves in flight, drains and given-up silos.</summary>
    [Alias("GetPlacement")]
    Task<PlacementStatus> GetPlacement();

    /// <summary>
    /// Moves every replica and preferred leader off <paramref name="silo"/>. <paramref name="leaving"/>: asked by the
    /// silo's own shutdown, so the drain ends by itself when a silo of that name joins again; an operator's drain
    /// (false) lasts until <see cref="Undrain"/>.
    /// </summary>
    [Alias("Drain")]
    Task Drain(string silo, bool leaving);

    [Alias("Undrain")]
    Task Undrain(string silo);

    /// <summary>A silo of this name started: ends its leaving drain (an operator's drain stays).</summary>
    [Alias("Joined")]
    Task Joined(string silo);

    /// <summary>See <see cref="IStore.SplitAsync"/>.</summary>
    [Alias("Split"), ResponseTimeout("00:01:00")]
    Task<long> Split(int shardId, ulong? splitAt);

    /// <summary>See <see cref="IStore.ReplaceReplicaAsync"/>. Returns the new replica's id once the change is recorded.</summary>
    [Alias("ReplaceReplica")]
    Task<long> ReplaceReplica(int shardId, long replicaId, string silo);
}
