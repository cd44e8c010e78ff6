namespace Storage.Shards;

/// <summary>Places a replica grain on the silo the shard map chose for it.</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("Storage.ReplicaPlacementStrategy")]
public sealed class ReplicaPlacementStrategy : PlacementStrategy
{
    internal static readonly ReplicaPlacementStrategy Instance = new();
}
