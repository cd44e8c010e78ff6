using Orleans.Runtime.Placement;
using Storage.Directory;

namespace Storage.Shards;

/// <summary>
/// Affinity, not pinning: the chosen silo if it is compatible and alive, otherwise a silo picked by the
/// replica key's hash (the replica's state is in PostgreSQL, so it can run anywhere until moved).
/// A replica moving home (<see cref="RelocationKey"/> in the migration's request context) goes to its home silo
/// or nowhere: this silo is answered instead, which calls the migration off.
/// </summary>
public sealed class ReplicaPlacementDirector : IPlacementDirector
{
    /// <summary>Request-context key a replica sets when it migrates to move home (<see cref="ShardReplicaGrain.Relocate"/>).</summary>
    public const string RelocationKey = "storage.relocate";

    private readonly ShardMapCache _maps;
    private readonly SiloNames _names;

    public ReplicaPlacementDirector(ShardMapCache maps, SiloNames names)
    {
        _maps = maps;
        _names = names;
    }

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Length == 0)
        {
            throw new OrleansException($"no compatible silo for {target.GrainIdentity}");
        }

        // A move home that placement cannot honour would only trade one stand-in silo for another.
        var relocating = target.RequestContextData?.ContainsKey(RelocationKey) == true;
        if (relocating)
        {
            return Task.FromResult(HomeIfCompatible(target, compatible) ?? context.LocalSilo);
        }

        var keyText = target.GrainIdentity.Key.ToString()!;
        var ordered = compatible.OrderBy(_names.Of, StringComparer.Ordinal).ToArray();
        var slot = KeyHash.Of(keyText);
        if (_maps.Current is { } map)
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
                        if (_names.Of(silo) == replicas![ordinal].SiloKey)
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

    /// <summary>The replica's home silo (the one its shard map names) if it is among <paramref name="compatible"/>.</summary>
    private SiloAddress? HomeIfCompatible(PlacementTarget target, SiloAddress[] compatible)
    {
        if (_maps.Current is not { } map)
        {
            return null;
        }

        ReplicaKey key;
        try
        {
            key = ReplicaKey.Parse(target.GrainIdentity.Key.ToString()!);
        }
        catch (FormatException)
        {
            return null;
        }

        var home = map.FindShard(key.Shard)?.Replicas.FirstOrDefault(r => r.ReplicaId == key.Replica)?.SiloKey;
        return home is null ? null : compatible.FirstOrDefault(s => _names.Of(s) == home);
    }
}
