namespace Storage.Shards;

/// <summary>
/// The replica was removed from its group and from the shard map: it deleted its durable state and does not run
/// again (replica ids are never reused). Transient for the router: another replica of the shard (by a fresher map)
/// answers instead.
/// </summary>
[GenerateSerializer, Alias("Storage.ReplicaRemovedException")]
public sealed class ReplicaRemovedException : StorageException
{
    public ReplicaRemovedException(string replica, long mapVersion)
        : base($"replica {replica} was removed from its shard (shard map version {mapVersion}); ask another replica")
    {
    }

    public override bool IsTransient => true;
}
