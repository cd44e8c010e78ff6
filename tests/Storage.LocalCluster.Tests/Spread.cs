using System.Diagnostics;
using System.Globalization;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// When a cluster has converged on a set of silos: no move in flight, every shard with its full set of voters on
/// those silos, running where the map says and reachable, a leader for every shard, and replicas and leaders spread
/// evenly (each silo within [floor, ceil] of its share). Also the least number of replica moves any planner needs to
/// get from one placement to an even one on a new set of silos.
/// </summary>
internal static class Spread
{
    /// <summary>Why <paramref name="status"/> has not converged on <paramref name="silos"/>, or null if it has.</summary>
    public static string? NotConverged(ClusterStatus status, ShardMap map, IReadOnlyCollection<string> silos, int replicationFactor)
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

            if (shard.Replicas.FirstOrDefault(r => !silos.Contains(r.SiloKey)) is { } away)
            {
                return $"shard {shard.ShardId} replica {away.ReplicaId} is placed on {away.SiloKey}, not one of {string.Join(", ", silos)}";
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

        var replicas = Count(status, leadersOnly: false, silos);
        var leaders = Count(status, leadersOnly: true, silos);
        return Uneven("replicas", replicas, status.Shards.Sum(s => s.Replicas.Count)) ?? Uneven("leaders", leaders, status.Shards.Count);
    }

    /// <summary>Replicas (or leaders) per silo as "silo-0=4 silo-1=4 ...", for the test's output.</summary>
    public static string Describe(ClusterStatus status, IReadOnlyCollection<string> silos) =>
        string.Join(" ", silos.Order(StringComparer.Ordinal).Select(s => string.Create(CultureInfo.InvariantCulture,
            $"{s}={Count(status, false, silos)[s]}/{Count(status, true, silos)[s]}")));

    /// <summary>
    /// The fewest replica moves that take <paramref name="before"/> to an even placement on <paramref name="after"/>:
    /// every replica on a silo that leaves must move, and so must those above the ceiling of a staying silo's share;
    /// every silo below the floor of its share must receive that many. Each move does one of each, so the larger sum
    /// is the bound (and, with every region able to take its share, it is reachable).
    /// </summary>
    public static int MinimumMoves(ShardMap before, IReadOnlyCollection<string> after)
    {
        var counts = before.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.SiloKey).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var total = counts.Values.Sum();
        var floor = total / after.Count;
        var ceiling = (total + after.Count - 1) / after.Count;
        var mustLeave = counts.Sum(c => after.Contains(c.Key) ? Math.Max(0, c.Value - ceiling) : c.Value);
        var mustArrive = after.Sum(s => Math.Max(0, floor - counts.GetValueOrDefault(s)));
        return Math.Max(mustLeave, mustArrive);
    }

    /// <summary>
    /// Polls until the cluster has converged on <paramref name="silos"/> and stays so for three polls in a row (a
    /// rebalancer between two steps can look converged once); returns the status and when it first looked so.
    /// </summary>
    public static async Task<(ClusterStatus Status, ShardMap Map, TimeSpan At)> WaitAsync(
        Func<Task<ClusterStatus>> status, Func<Task<ShardMap?>> map, IReadOnlyCollection<string> silos, int replicationFactor,
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
                throw new TimeoutException($"the cluster did not converge on {string.Join(", ", silos)} within {timeout.TotalSeconds:0} s: {reason}");
            }

            await Task.Delay(500);
        }
    }

    private static Dictionary<string, int> Count(ClusterStatus status, bool leadersOnly, IReadOnlyCollection<string> silos)
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
