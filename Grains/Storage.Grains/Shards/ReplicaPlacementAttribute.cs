using Orleans.Placement;

namespace Storage.Shards;

/// <summary>Puts a grain class under <see cref="ReplicaPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ReplicaPlacementAttribute : PlacementAttribute
{
    public ReplicaPlacementAttribute() : base(ReplicaPlacementStrategy.Instance)
    {
    }
}
