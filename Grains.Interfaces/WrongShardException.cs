namespace Storage;

/// <summary>
/// The replica no longer owns the key (or the range) the request was routed to it for: the shard was split by shard
/// map version <see cref="MapVersion"/>, newer than the map the caller routed with. Nothing was applied. Transient:
/// the router refreshes its map until it holds at least that version and retries (a write with the same
/// <see cref="WriteId"/>) at the shard that owns the key now; an application sees it only inside a
/// <see cref="ShardUnavailableException"/> when the new map does not arrive within the retry budget.
/// </summary>
[GenerateSerializer, Alias("Storage.WrongShardException")]
public sealed class WrongShardException : StorageException
{
    public WrongShardException(long mapVersion)
        : base($"the replica no longer owns this key: route with shard map version {mapVersion} or newer")
    {
        MapVersion = mapVersion;
    }

    /// <summary>The shard map version that changed the replica's range; a router must route with this one or a newer one.</summary>
    [Id(0)]
    public long MapVersion { get; }

    public override bool IsTransient => true;
}
