using Orleans.Placement;
using Orleans.Runtime.Placement;
using Storage.Directory;

namespace Storage.Shards;

/// <summary>Places a replica grain on the silo the shard map chose for it.</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("Storage.ReplicaPlacementStrategy")]
public sealed class ReplicaPlacementStrategy : PlacementStrategy
{
    internal static readonly ReplicaPlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ReplicaPlacementAttribute : PlacementAttribute
{
    public ReplicaPlacementAttribute() : base(ReplicaPlacementStrategy.Instance)
    {
    }
}

/// <summary>
/// Affinity, not pinning: the chosen silo if it is compatible and alive, otherwise a silo picked by the
/// replica key's hash (the replica's state is in PostgreSQL, so it can run anywhere until moved).
/// </summary>
public sealed class ReplicaPlacementDirector : IPlacementDirector
{
    private readonly ShardMapCache maps;

    public ReplicaPlacementDirector(ShardMapCache maps) => this.maps = maps;

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Length == 0)
        {
            throw new OrleansException($"no compatible silo for {target.GrainIdentity}");
        }

        var keyText = target.GrainIdentity.Key.ToString()!;
        var ordered = compatible.OrderBy(SiloKeys.Of, StringComparer.Ordinal).ToArray();
        var slot = KeyHash.Of(keyText);
        if (maps.Current is { } map)
        {
            try
            {
                var key = ReplicaKey.Parse(keyText);
                var replicas = map.FindShard(key.Shard)?.Replicas;
                var ordinal = replicas?.ToList().FindIndex(r => r.ReplicaId == key.Replica) ?? -1;
                if (ordinal >= 0)
                {
                    foreach (var silo in compatible)
                    {
                        if (SiloKeys.Of(silo) == replicas![ordinal].SiloKey)
                        {
                            return Task.FromResult(silo);
                        }
                    }

                    // Its silo is gone: consecutive slots per shard keep a shard's stand-ins on distinct silos.
                    slot = KeyHash.Of(key.Shard.ToString(System.Globalization.CultureInfo.InvariantCulture)) + (ulong)ordinal;
                }
            }
            catch (FormatException)
            {
                // Not a replica key: fall through to hashing.
            }
        }

        return Task.FromResult(ordered[(int)(slot % (ulong)ordered.Length)]);
    }
}
