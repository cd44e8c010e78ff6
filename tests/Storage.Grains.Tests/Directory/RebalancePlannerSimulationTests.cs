using Storage.Directory;
using Xunit.Abstractions;
using static Storage.Grains.Tests.Directory.Rebalancing;

namespace Storage.Grains.Tests.Directory;

/// <summary>
/// The planner under random membership: seeded random topologies, starts and events (joins, silos given up, drains,
/// weight changes), each followed by plans applied until one is empty, with moves held "in flight" (busy) for random
/// numbers of steps. Prints every seed; replay one with STORAGE_TEST_SEED=n.
/// </summary>
public class RebalancePlannerSimulationTests(ITestOutputHelper output)
{
    private static readonly (string, string)[][] Topologies =
    [
        Topology.Flat,
        Topology.OneRegionThreeZones,
        Topology.ThreeRegionsTwoZones,
    ];

    [Fact]
    public void Random_membership_converges_near_the_minimum_without_losing_diversity()
    {
        var ratios = new List<double>();
        foreach (int seed in TestSeeds.Get(fixedCount: 24, freshCount: 6))
        {
            output.WriteLine($"seed {seed} (replay: {TestSeeds.EnvironmentVariable}={seed})");
            try
            {
                ratios.AddRange(Simulate(seed));
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"simulation failed with seed {seed}; replay with {TestSeeds.EnvironmentVariable}={seed}\n{e}");
            }
        }

        output.WriteLine($"moves / minimum over {ratios.Count} joins, give-ups and drains: max {ratios.DefaultIfEmpty(1).Max():0.000}, mean {ratios.DefaultIfEmpty(1).Average():0.000}");
    }

    [Theory]
    [InlineData(8, 40, 2)]
    [InlineData(300, 4, 64)]
    [InlineData(3000, 1, int.MaxValue)]
    public void Moves_per_join_and_leave_are_within_a_fifth_of_the_minimum(int shards, int rounds, int maxMoves)
    {
        // 3 → 6 silos (join) and 6 → 3 (given up, and drained), flat and over three regions, several silo namings
        // (the names feed the hashes that break ties).
        var figures = new Dictionary<string, List<double>>();
        for (int round = 0; round < rounds; round++)
        {
            foreach (var slots in new[] { Topology.Flat, Topology.ThreeRegionsTwoZones })
            {
                string name = slots == Topology.Flat ? "flat" : "3 regions";
                var six = Topology.Silos(6, slots, prefix: $"r{round}");
                var three = six.Take(3).ToList();
                var start = ShardMapBuilder.Build(shards, 3, three);

                var joined = Measure(figures, $"{name} join 3→6", start, six, maxMoves);
                AssertBalanced(joined, six);

                // Three leave: every other one (one per region over three regions), or given up.
                var stay = six.Where((_, i) => i % 2 == round % 2 || slots != Topology.Flat && i < 3).ToList();
                Measure(figures, $"{name} give up 6→3", joined, stay, maxMoves);
                var drained = six.Select(s => stay.Contains(s) ? s : s with { Weight = 0 }).ToList();
                Measure(figures, $"{name} drain 6→3", joined, drained, maxMoves);
            }
        }

        foreach (var (label, list) in figures)
        {
            output.WriteLine($"{shards} shards x RF 3, {label}: moves / minimum over {list.Count} runs: max {list.Max():0.000}, mean {list.Average():0.000}");
        }

    }

    private static ShardMap Measure(Dictionary<string, List<double>> figures, string label, ShardMap map, IReadOnlyList<SiloInfo> silos, int maxMoves)
    {
        int minimum = MinimumMoves(map, silos);
        var run = Converge(map, silos, maxMoves);
        Assert.True(minimum > 0, label);
        double ratio = (double)run.Moves / minimum;
        Assert.True(ratio <= 1.2, $"{label}: {run.Moves} moves for a minimum of {minimum}");
        if (!figures.TryGetValue(label, out var list))
        {
            figures[label] = list = new List<double>();
        }

        list.Add(ratio);
        return run.Map;
    }

    private List<double> Simulate(int seed)
    {
        var rng = new Random(seed);
        var slots = Topologies[rng.Next(Topologies.Length)];
        int replicationFactor = rng.Next(4) == 0 ? 5 : 3;
        int shards = new[] { 4, 8, 24, 64, 150 }[rng.Next(5)];
        int next = 0;
        SiloInfo NewSilo()
        {
            var (region, zone) = slots[rng.Next(slots.Length)];
            return new SiloInfo($"s{next++}", region, zone, rng.Next(5) == 0 ? 2 : 1);
        }

        var silos = Enumerable.Range(0, rng.Next(replicationFactor, replicationFactor + 5)).Select(_ => NewSilo()).ToList();
        var map = ShardMapBuilder.Build(shards, replicationFactor, silos);
        map = Check(map, silos, rng, "start", out _);
        var ratios = new List<double>();
        for (int e = 0; e < 8; e++)
        {
            int eligible = silos.Count(s => s.Weight > 0);
            int roll = rng.Next(4);
            string what;
            if (roll == 0 || eligible <= replicationFactor)
            {
                int count = rng.Next(1, 4);
                silos.AddRange(Enumerable.Range(0, count).Select(_ => NewSilo()));
                what = $"join {count}";
            }
            else if (roll == 1)
            {
                var gone = silos.Where(s => s.Weight > 0).OrderBy(_ => rng.Next()).Take(rng.Next(1, Math.Min(3, eligible - replicationFactor) + 1)).ToList();
                silos = silos.Except(gone).ToList();
                what = $"give up {string.Join(",", gone.Select(s => s.SiloKey))}";
            }
            else if (roll == 2)
            {
                var drain = silos.Where(s => s.Weight > 0).OrderBy(_ => rng.Next()).Take(rng.Next(1, Math.Min(3, eligible - replicationFactor) + 1)).Select(s => s.SiloKey).ToHashSet();
                silos = silos.Select(s => drain.Contains(s.SiloKey) ? s with { Weight = 0 } : s).ToList();
                what = $"drain {string.Join(",", drain)}";
            }
            else
            {
                int index = rng.Next(silos.Count);
                silos[index] = silos[index] with { Weight = silos[index].Weight == 0 ? 1 : 3 - silos[index].Weight };
                what = $"reweigh {silos[index].SiloKey} to {silos[index].Weight}";
            }

            map = Check(map, silos, rng, what, out double? ratio);
            if (ratio is { } r)
            {
                ratios.Add(r);
            }

            // Drained silos that are empty leave for good.
            var loads = Loads(map);
            silos = silos.Where(s => s.Weight > 0 || loads.ContainsKey(s.SiloKey)).ToList();
        }

        return ratios;
    }

    private ShardMap Check(ShardMap map, List<SiloInfo> silos, Random rng, string what, out double? ratio)
    {
        // Joins, silos given up and drains are held to 1.2 × the minimum; the start (a ring placement, not a balanced
        // map) and weight changes are only measured.
        bool membership = what.StartsWith("join", StringComparison.Ordinal) || what.StartsWith("give up", StringComparison.Ordinal) || what.StartsWith("drain", StringComparison.Ordinal);
        int minimum = MinimumMoves(map, silos);
        // At least 2: a chain of two moves (see RebalancePlanner) is not started with a budget of one.
        int maxMoves = new[] { 2, 3, 8, int.MaxValue }[rng.Next(4)];
        var run = Converge(map, silos, maxMoves, flight: rng.Next(2) == 0 ? rng : null, stepLimit: 20 * (Loads(map).Values.Sum() + 10));
        output.WriteLine($"  {what}: {silos.Count} silos, {run.Moves} moves (minimum {minimum}), {run.Steps} steps, max {maxMoves} per step");

        // Converged: nothing to do, whatever order the silos come in; the map is as diverse as single moves can make it.
        var again = RebalancePlanner.Plan(run.Map, silos.AsEnumerable().Reverse().ToList(), new RebalanceLimits(maxMoves, new HashSet<int>()));
        Assert.True(again.IsEmpty, $"{what}: converged, yet the same silos in another order plan {Describe(again)}");
        AssertNoDiversityGain(run.Map, silos);
        AssertLeadersAllowed(run.Map, silos);
        if (silos.Count(s => s.Weight > 0) >= map.Shards.Max(s => s.Replicas.Count))
        {
            // A chain of moves longer than a step's budget never starts (see RebalancePlanner): with the budget unbounded,
            // whatever such chains were left undone is done, and the map is balanced.
            AssertBalanced(maxMoves == int.MaxValue ? run.Map : Converge(run.Map, silos).Map, silos);
        }

        ratio = membership && minimum > 0 ? (double)run.Moves / minimum : null;
        Assert.True(minimum > 0 || run.Moves == 0, $"{what}: {run.Moves} moves where none was needed");
        if (membership && minimum > 0)
        {
            // The minimum is a lower bound that ignores the diversity rules; where zones or regions constrain placement
            // they can force a few moves more, which on maps of a handful of replicas exceed 20 %. Measured over seeds
            // 1–300 (1954 joins, give-ups and drains): mean 1.005, every event within ⌈1.2 × minimum⌉ + 2, and within
            // ⌈1.2 × minimum⌉ in one-zone topologies; seeds 301–1000 (4481 events, mean 1.004) pass this bound too.
            int slack = silos.Select(s => (s.Region, s.Zone)).Distinct().Count() > 1 ? 3 : 1;
            Assert.True(run.Moves <= Math.Ceiling(1.2 * minimum) + slack, $"{what}: {run.Moves} moves for a minimum of {minimum}");
        }

        return run.Map;
    }

    private static void AssertNoDiversityGain(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        foreach (var shard in map.Shards)
        {
            var places = shard.Replicas.Select(r => silos.FirstOrDefault(s => s.SiloKey == r.SiloKey) is { } s ? (s.Region, s.Zone) : (r.Region, r.Zone)).ToList();
            var penalty = Penalty(places);
            foreach (var target in silos.Where(s => s.Weight > 0 && shard.Replicas.All(r => r.SiloKey != s.SiloKey)))
            {
                for (int j = 0; j < places.Count; j++)
                {
                    var moved = places.Select((p, k) => k == j ? (target.Region, target.Zone) : p);
                    Assert.True(Penalty(moved).CompareTo(penalty) >= 0, $"shard {shard.ShardId}: moving replica {shard.Replicas[j].ReplicaId} to {target.SiloKey} would improve its diversity");
                }
            }
        }
    }

    private static void AssertLeadersAllowed(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        var eligible = silos.Where(s => s.Weight > 0).Select(s => s.SiloKey).ToHashSet();
        foreach (var shard in map.Shards)
        {
            bool possible = shard.Replicas.Any(r => r.Role == ReplicaRole.Voter && eligible.Contains(r.SiloKey));
            Assert.True(!possible || eligible.Contains(shard.Replicas[0].SiloKey), $"shard {shard.ShardId} is led from {shard.Replicas[0].SiloKey}, which is draining or gone");
        }
    }
}
