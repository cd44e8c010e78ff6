using Storage.Directory;

namespace Storage.Grains.Tests.Directory;

/// <summary>
/// Drives <see cref="RebalancePlanner"/> to convergence and measures maps, independently of the planner's own code
/// (except <see cref="FairShare"/>, which defines the target whose minimum distance is measured).
/// </summary>
internal static class Rebalancing
{
    public sealed record Run(ShardMap Map, int Steps, int Moves);

    /// <summary>
    /// Applies plans until one is empty, checking each: at most <paramref name="maxMoves"/> moves, at most one per shard,
    /// none on a busy shard, no shard's diversity lowered unless a replica is vacated (and then the best available),
    /// no two replicas on one silo. Moves stay "in flight" (their shards busy) for <paramref name="flight"/> steps.
    /// Fails if no empty plan comes within <paramref name="stepLimit"/> steps.
    /// </summary>
    public static Run Converge(ShardMap map, IReadOnlyList<SiloInfo> silos, int maxMoves = int.MaxValue, Random? flight = null, int stepLimit = 1_000_000)
    {
        var inFlight = new Dictionary<int, int>(); // shard → steps left
        int steps = 0, moves = 0;
        while (true)
        {
            var busy = inFlight.Keys.ToHashSet();
            var plan = RebalancePlanner.Plan(map, silos, new RebalanceLimits(maxMoves, busy));
            steps++;
            if (plan.IsEmpty && busy.Count == 0)
            {
                Assert.Same(map, plan.ApplyTo(map, silos));
                return new Run(map, steps, moves);
            }

            Assert.True(steps <= stepLimit, $"no empty plan after {stepLimit} steps: oscillating? last plan {Describe(plan)}");
            CheckStep(map, silos, plan, maxMoves, busy);
            var next = plan.ApplyTo(map, silos);
            Assert.Equal(plan.IsEmpty ? map.Version : map.Version + 1, next.Version);
            map = next;
            moves += plan.Moves.Count;

            foreach (int shard in inFlight.Keys.ToList())
            {
                if (--inFlight[shard] <= 0)
                {
                    inFlight.Remove(shard);
                }
            }

            foreach (var move in plan.Moves)
            {
                int hold = flight is null ? 0 : flight.Next(0, 3);
                if (hold > 0)
                {
                    inFlight[move.ShardId] = hold;
                }
            }
        }
    }

    public static void CheckStep(ShardMap map, IReadOnlyList<SiloInfo> silos, RebalancePlan plan, int maxMoves, IReadOnlySet<int> busy)
    {
        Assert.True(plan.Moves.Count <= maxMoves, $"{plan.Moves.Count} moves, limit {maxMoves}");
        Assert.Equal(plan.Moves.Count, plan.Moves.Select(m => m.ShardId).Distinct().Count());
        Assert.DoesNotContain(plan.Moves, m => busy.Contains(m.ShardId));
        Assert.DoesNotContain(plan.PreferredLeaders.Keys, busy.Contains);

        var byKey = silos.ToDictionary(s => s.SiloKey);
        foreach (var move in plan.Moves)
        {
            var shard = map.FindShard(move.ShardId)!;
            Assert.Contains(shard.Replicas, r => r.ReplicaId == move.ReplicaId && r.SiloKey == move.From);
            Assert.DoesNotContain(shard.Replicas, r => r.SiloKey == move.To);
            Assert.True(byKey[move.To].Weight > 0, $"move to draining silo {move.To}");

            var others = shard.Replicas.Where(r => r.ReplicaId != move.ReplicaId).Select(r => Place(r, byKey)).ToList();
            var after = Penalty(others.Append((byKey[move.To].Region, byKey[move.To].Zone)));
            bool vacating = !byKey.TryGetValue(move.From, out var from) || from.Weight == 0;
            if (vacating)
            {
                // Forced to move: the destination is the best there is.
                foreach (var alternative in silos.Where(s => s.Weight > 0 && shard.Replicas.All(r => r.SiloKey != s.SiloKey)))
                {
                    Assert.True(after.CompareTo(Penalty(others.Append((alternative.Region, alternative.Zone)))) <= 0, $"vacating {move} to {move.To} when {alternative.SiloKey} is more diverse");
                }
            }
            else
            {
                var before = Penalty(shard.Replicas.Select(r => Place(r, byKey)));
                Assert.True(after.CompareTo(before) <= 0, $"move {move} lowers the diversity of shard {move.ShardId}: {before} → {after}");
            }
        }
    }

    /// <summary>Σ over regions, then over zones, of the square of the shard's replicas there: lower is more diverse.</summary>
    public static (int Region, int Zone) Penalty(IEnumerable<(string Region, string Zone)> places)
    {
        var list = places.ToList();
        return (
            list.GroupBy(p => p.Region).Sum(g => g.Count() * g.Count()),
            list.GroupBy(p => p).Sum(g => g.Count() * g.Count()));
    }

    public static (int Regions, int Zones) Distinct(ShardInfo shard) =>
        (shard.Replicas.Select(r => r.Region).Distinct().Count(), shard.Replicas.Select(r => (r.Region, r.Zone)).Distinct().Count());

    public static Dictionary<string, int> Loads(ShardMap map) =>
        map.Shards.SelectMany(s => s.Replicas).GroupBy(r => r.SiloKey).ToDictionary(g => g.Key, g => g.Count());

    public static Dictionary<string, int> Leaders(ShardMap map) =>
        map.Shards.GroupBy(s => s.Replicas[0].SiloKey).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The planner's fair shares of replicas (per silo name) for this map over these silos.</summary>
    public static Dictionary<string, double> Shares(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        var model = new PlacementModel(map, silos);
        var shares = FairShare.Replicas(model);
        return model.Silos.Select((s, i) => (s.SiloKey, shares[i])).ToDictionary(p => p.SiloKey, p => p.Item2);
    }

    /// <summary>
    /// The fewest replicas that must change silo to put every eligible silo within [floor, ceil] of its share: every
    /// vacated replica (on a draining or absent silo) moves, every replica above a ceiling leaves, and the silos below
    /// their floors must be filled — by vacated replicas or by more replicas leaving others.
    /// </summary>
    public static int MinimumMoves(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        var shares = Shares(map, silos);
        var loads = Loads(map);
        var eligible = silos.Where(s => s.Weight > 0).Select(s => s.SiloKey).ToHashSet();
        int vacated = loads.Where(l => !eligible.Contains(l.Key)).Sum(l => l.Value);
        int surplus = 0, deficit = 0;
        foreach (string silo in eligible)
        {
            int load = loads.GetValueOrDefault(silo);
            surplus += Math.Max(0, load - FairShare.Ceiling(shares[silo]));
            deficit += Math.Max(0, FairShare.Floor(shares[silo]) - load);
        }

        return vacated + Math.Max(surplus, deficit - vacated);
    }

    /// <summary>Every eligible silo within [floor, ceil] of its share of replicas; nothing on draining or absent silos.</summary>
    public static void AssertBalanced(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        var shares = Shares(map, silos);
        var loads = Loads(map);
        foreach (var silo in silos)
        {
            int load = loads.GetValueOrDefault(silo.SiloKey);
            double share = shares[silo.SiloKey];
            Assert.True(
                load >= FairShare.Floor(share) && load <= FairShare.Ceiling(share),
                $"silo {silo.SiloKey} (weight {silo.Weight}) holds {load} replicas, share {share:0.###}; loads {Format(loads)}");
        }

        Assert.All(loads.Keys, key => Assert.Contains(silos, s => s.SiloKey == key));
    }

    /// <summary>Preferred leaders within [floor, ceil] of shards × weight / total weight, none on a learner or an ineligible silo.</summary>
    public static void AssertLeadersEven(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        var leaders = Leaders(map);
        double totalWeight = silos.Sum(s => s.Weight);
        foreach (var silo in silos)
        {
            int led = leaders.GetValueOrDefault(silo.SiloKey);
            double share = map.Shards.Count * silo.Weight / totalWeight;
            Assert.True(
                led >= FairShare.Floor(share) && led <= FairShare.Ceiling(share),
                $"silo {silo.SiloKey} (weight {silo.Weight}) leads {led}, share {share:0.###}; leaders {Format(leaders)}");
        }

        Assert.All(map.Shards, s => Assert.Equal(ReplicaRole.Voter, s.Replicas[0].Role));
    }

    public static string Format(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));

    public static string Describe(RebalancePlan plan) =>
        string.Join("; ", plan.Moves.Select(m => $"{m.ShardId}/{m.ReplicaId} {m.From}→{m.To}"))
        + " | leaders " + string.Join(", ", plan.PreferredLeaders.Select(l => $"{l.Key}:{l.Value}"));

    private static (string Region, string Zone) Place(ReplicaInfo replica, Dictionary<string, SiloInfo> silos) =>
        silos.TryGetValue(replica.SiloKey, out var silo) ? (silo.Region, silo.Zone) : (replica.Region, replica.Zone);
}
