using System.Diagnostics;
using System.Globalization;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// When a cluster has converged on a set of silos: no move in flight, every shard with its full set of voters on
/// those silos, running where the map says and reachable, a leader for every shard, and replicas and leaders spread
/// evenly. Placement puts a shard's replicas in distinct regions first, so with as many replicas as regions each
/// region holds one replica of every shard whatever its number of silos: replicas are even when each silo holds
/// within [floor, ceil] of its region's share; leaders (any replica may lead) within [floor, ceil] of the cluster's.
/// Also the least number of replica moves any placement that keeps those rules needs to get from one map to an even
/// spread on a new set of silos.
/// </summary>
internal static class Spread
{
    /// <summary>Why <paramref name="status"/> has not converged on <paramref name="silos"/>, or null if it has.</summary>
    /// <param name="status">The cluster's status.</param>
    /// <param name="map">The directory's map.</param>
    /// <param name="silos">The silos it should have converged on: name → region.</param>
    /// <param name="replicationFactor">Replicas per shard.</param>
    public static string? NotConverged(ClusterStatus status, ShardMap map, IReadOnlyDictionary<string, string> silos, int replicationFactor)
    {
        if (status.Moves is { Count: > 0 } moves)
        {
            return $"{moves.Count} moves in flight ({string.Join("; ", moves.Select(m => $"shard {m.ShardId} replica {m.ReplicaId} {m.From} -> {m.To}"))})";
        }

        if (status.ShardMapVersion != map.Version)
        {
            return $"status of map version {status.ShardMapVersion}, map at {map.Version}";
        }

        foreach (var shard in map.Shards)
        {
            if (shard.Replicas.Count != replicationFactor || shard.Replicas.Any(r => r.Role != ReplicaRole.Voter))
            {
                return $"shard {shard.ShardId} has {string.Join(", ", shard.Replicas.Select(r => $"{r.ReplicaId}@{r.SiloKey} ({r.Role})"))}";
            }

            if (shard.Replicas.FirstOrDefault(r => !silos.ContainsKey(r.SiloKey)) is { } away)
            {
                return $"shard {shard.ShardId} replica {away.ReplicaId} is placed on {away.SiloKey}, not one of {string.Join(", ", silos.Keys)}";
            }
        }

        foreach (var shard in status.Shards)
        {
            if (shard.LeaderReplica == 0)
            {
                return $"shard {shard.ShardId} has no leader";
            }

            var placed = map.FindShard(shard.ShardId);
            foreach (var replica in shard.Replicas)
            {
                var home = placed?.Replicas.FirstOrDefault(r => r.ReplicaId == replica.ReplicaId)?.SiloKey;
                if (!replica.Reachable || replica.Silo != home)
                {
                    return $"shard {shard.ShardId} replica {replica.ReplicaId} {(replica.Reachable ? $"runs on {replica.Silo}" : "is unreachable")}, placed on {home ?? "nothing"}";
                }
            }
        }

        var replicas = Count(status, leadersOnly: false, silos.Keys);
        foreach (var region in silos.GroupBy(s => s.Value, s => s.Key))
        {
            var inRegion = region.ToDictionary(s => s, s => replicas[s], StringComparer.Ordinal);
            if (Uneven($"replicas in region {region.Key}", inRegion, inRegion.Values.Sum()) is { } uneven)
            {
                return uneven;
            }
        }

        return Uneven("leaders", Count(status, leadersOnly: true, silos.Keys), status.Shards.Count);
    }

    /// <summary>Replicas/leaders per silo as "silo-0=4/1 silo-1=4/2 ...", for the test's output.</summary>
    public static string Describe(ClusterStatus status, IReadOnlyDictionary<string, string> silos)
    {
        var replicas = Count(status, false, silos.Keys);
        var leaders = Count(status, true, silos.Keys);
        return string.Join(" ", silos.Keys.Order(StringComparer.Ordinal).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s}={replicas[s]}/{leaders[s]}")));
    }

    /// <summary>
    /// The fewest replica moves that take <paramref name="before"/> to an even placement on <paramref name="after"/>
    /// (name → region), region by region: a replica stays in its region (every region keeps silos here, and each holds
    /// one replica of every shard). In a region, every replica on a silo that leaves must move, and so must those above
    /// the ceiling of a staying silo's share; every silo below the floor of its share must receive that many. A move
    /// does one of each, so the larger sum bounds the region's moves (and is reachable).
    /// </summary>
    public static int MinimumMoves(ShardMap before, IReadOnlyDictionary<string, string> after)
    {
        var minimum = 0;
        foreach (var region in before.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.Region))
        {
            var counts = region.GroupBy(r => r.SiloKey).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var staying = after.Where(s => s.Value == region.Key).Select(s => s.Key).ToList();
            if (staying.Count == 0)
            {
                throw new ArgumentException($"no silo of region {region.Key} stays: its replicas would have to change region");
            }

            var total = counts.Values.Sum();
            var floor = total / staying.Count;
            var ceiling = (total + staying.Count - 1) / staying.Count;
            var mustLeave = counts.Sum(c => staying.Contains(c.Key) ? Math.Max(0, c.Value - ceiling) : c.Value);
            var mustArrive = staying.Sum(s => Math.Max(0, floor - counts.GetValueOrDefault(s)));
            minimum += Math.Max(mustLeave, mustArrive);
        }

        return minimum;
    }

    /// <summary>
    /// Polls until the cluster has converged on <paramref name="silos"/> and stays so for three polls in a row (a
    /// rebalancer between two steps can look converged once); returns the status and when it first looked so.
    /// </summary>
    public static async Task<(ClusterStatus Status, ShardMap Map, TimeSpan At)> WaitAsync(
        Func<Task<ClusterStatus>> status, Func<Task<ShardMap?>> map, IReadOnlyDictionary<string, string> silos, int replicationFactor,
        Stopwatch clock, TimeSpan timeout)
    {
        var deadline = clock.Elapsed + timeout;
        var streak = 0;
        var since = TimeSpan.Zero;
        var reason = "not checked yet";
        while (true)
        {
            try
            {
                var m = await map() ?? throw new InvalidOperationException("no shard map");
                var s = await status();
                var why = NotConverged(s, m, silos, replicationFactor);
                if (why is null)
                {
                    since = streak == 0 ? clock.Elapsed : since;
                    if (++streak == 3)
                    {
                        return (s, m, since);
                    }
                }
                else
                {
                    streak = 0;
                    reason = why;
                }
            }
            catch (Exception e) when (e is StorageException or OrleansException or TimeoutException)
            {
                streak = 0;
                reason = $"{e.GetType().Name}: {e.Message}";
            }

            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"the cluster did not converge on {string.Join(", ", silos.Keys)} within {timeout.TotalSeconds:0} s: {reason}");
            }

            await Task.Delay(500);
        }
    }

    private static Dictionary<string, int> Count(ClusterStatus status, bool leadersOnly, IEnumerable<string> silos)
    {
        var counts = silos.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        foreach (var shard in status.Shards)
        {
            foreach (var replica in shard.Replicas.Where(r => r.Reachable && (!leadersOnly || r.ReplicaId == shard.LeaderReplica)))
            {
                counts[replica.Silo] = counts.GetValueOrDefault(replica.Silo) + 1;
            }
        }

        return counts;
    }

    private static string? Uneven(string what, Dictionary<string, int> counts, int total)
    {
        var silos = counts.Count;
        var floor = total / silos;
        var ceiling = (total + silos - 1) / silos;
        var off = counts.Where(c => c.Value < floor || c.Value > ceiling).ToList();
        return off.Count == 0
            ? null
            : $"{what} not within [{floor}, {ceiling}] per silo: {string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"))}";
    }
}
