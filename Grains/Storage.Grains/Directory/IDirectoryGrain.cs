namespace Storage.Directory;

/// <summary>Owns the versioned, persisted shard map (single activation, key 0).</summary>
[Alias("Storage.IDirectoryGrain")]
public interface IDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The shard map, created on first use once enough silos are members; null until then.</summary>
    [Alias("GetShardMap")]
    Task<ShardMap?> GetShardMap();
}
