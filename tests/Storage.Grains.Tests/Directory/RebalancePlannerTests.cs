using Storage.Directory;
using static Storage.Grains.Tests.Directory.Rebalancing;
using static Storage.Grains.Tests.Directory.Topology;

namespace Storage.Grains.Tests.Directory;

public class RebalancePlannerTests
{
    private static readonly IReadOnlySet<int> NoneBusy = new HashSet<int>();

    [Fact]
    public void Join_of_one_silo_to_three_moves_exactly_its_share_to_it()
    {
        var three = Silos(3, Flat);
        var map = ShardMapBuilder.Build(12, 3, three);
        var four = Silos(4, Flat);
        int minimum = MinimumMoves(map, four);
        Assert.Equal(9, minimum); // 36 replicas over 4 silos: the newcomer takes 9

        var run = Converge(map, four, maxMoves: 2);

        Assert.Equal(minimum, run.Moves);
        AssertBalanced(run.Map, four);
        AssertLeadersEven(run.Map, four);
        Assert.Equal(9, Loads(run.Map)["silo-3"]);
        // Nothing moved between the old silos: each of them lost exactly 3.
        Assert.All(three, s => Assert.Equal(9, Loads(run.Map)[s.SiloKey]));
    }

    [Fact]
    public void Join_of_three_silos_to_three_regions_keeps_every_shard_in_three_regions()
    {
        var three = Silos(3, ThreeRegionsTwoZones);
        var map = ShardMapBuilder.Build(30, 3, three);
        var six = Silos(6, ThreeRegionsTwoZones);

        var run = Converge(map, six, maxMoves: 3);

        Assert.Equal(45, run.Moves); // 90 replicas, 15 per silo: each new silo takes 15 from its region's old one
        Assert.Equal(MinimumMoves(map, six), run.Moves);
        AssertBalanced(run.Map, six);
        AssertLeadersEven(run.Map, six);
        Assert.All(run.Map.Shards, s => Assert.Equal((3, 3), Distinct(s)));
    }

    [Fact]
    public void A_given_up_silo_is_emptied_and_only_its_replicas_move()
    {
        var six = Silos(6, Flat);
        var map = Converge(ShardMapBuilder.Build(40, 3, six), six).Map;
        var five = six.Where(s => s.SiloKey != "silo-2").ToList();
        int hosted = Loads(map)["silo-2"];

        var plan = RebalancePlanner.Plan(map, five, new RebalanceLimits(int.MaxValue, NoneBusy));

        Assert.Equal(hosted, plan.Moves.Count);
        Assert.All(plan.Moves, m => Assert.Equal("silo-2", m.From));
        var after = Converge(plan.ApplyTo(map, five), five).Map;
        Assert.DoesNotContain("silo-2", Loads(after).Keys);
        AssertBalanced(after, five);
        AssertLeadersEven(after, five);
    }

    [Fact]
    public void A_draining_silo_loses_its_leaders_at_once_and_its_replicas_within_the_move_limit()
    {
        var five = Silos(5, Flat);
        var map = Converge(ShardMapBuilder.Build(20, 3, five), five).Map;
        var draining = five.Select(s => s.SiloKey == "silo-1" ? s with { Weight = 0 } : s).ToList();
        Assert.True(Leaders(map)["silo-1"] > 0);

        var first = RebalancePlanner.Plan(map, draining, new RebalanceLimits(2, NoneBusy));

        Assert.Equal(2, first.Moves.Count);
        Assert.All(first.Moves, m => Assert.Equal("silo-1", m.From));
        var next = first.ApplyTo(map, draining);
        Assert.DoesNotContain(next.Shards, s => s.Replicas[0].SiloKey == "silo-1");

        var run = Converge(next, draining, maxMoves: 2);
        Assert.DoesNotContain("silo-1", Loads(run.Map).Keys);
        Assert.Equal(Loads(map)["silo-1"], run.Moves + 2);
        AssertBalanced(run.Map, draining);
        AssertLeadersEven(run.Map, draining.Where(s => s.Weight > 0).ToList());
    }

    [Fact]
    public void A_drain_with_nowhere_to_go_moves_leaders_only_and_then_rests()
    {
        var three = Silos(3, Flat);
        var map = ShardMapBuilder.Build(9, 3, three);
        var draining = three.Select(s => s.SiloKey == "silo-0" ? s with { Weight = 0 } : s).ToList();

        var plan = RebalancePlanner.Plan(map, draining, new RebalanceLimits(5, NoneBusy));

        Assert.Empty(plan.Moves); // every shard already has a replica on both other silos
        var next = plan.ApplyTo(map, draining);
        Assert.DoesNotContain(next.Shards, s => s.Replicas[0].SiloKey == "silo-0");
        Assert.True(RebalancePlanner.Plan(next, draining, new RebalanceLimits(5, NoneBusy)).IsEmpty);
    }

    [Fact]
    public void Given_up_silos_are_vacated_before_draining_ones_and_before_any_balancing()
    {
        var silos = Silos(6, Flat);
        var map = Converge(ShardMapBuilder.Build(30, 3, silos), silos).Map;
        // silo-0 is gone, silo-1 drains, silo-6 is new (balancing would fill it).
        var offered = silos.Where(s => s.SiloKey != "silo-0")
            .Select(s => s.SiloKey == "silo-1" ? s with { Weight = 0 } : s)
            .Append(new SiloInfo("silo-6", "eu", "a", 1))
            .ToList();
        int gone = Loads(map)["silo-0"], drained = Loads(map)["silo-1"];
        var froms = new List<string>();
        for (int step = 0; step < 200; step++)
        {
            var plan = RebalancePlanner.Plan(map, offered, new RebalanceLimits(3, NoneBusy));
            if (plan.IsEmpty)
            {
                break;
            }

            froms.AddRange(plan.Moves.Select(m => m.From));
            map = plan.ApplyTo(map, offered);
        }

        Assert.All(froms.Take(gone), f => Assert.Equal("silo-0", f));
        Assert.All(froms.Skip(gone).Take(drained), f => Assert.Equal("silo-1", f));
        AssertBalanced(map, offered);
        // Vacated replicas went where balance wanted them: no move beyond the minimum for the whole event.
        Assert.Equal(gone + drained, froms.Count(f => f is "silo-0" or "silo-1"));
    }

    [Fact]
    public void Weights_set_the_shares()
    {
        var silos = new List<SiloInfo>
        {
            new("a", "eu", "a", 1), new("b", "eu", "a", 1), new("c", "eu", "a", 2), new("d", "eu", "a", 2),
        };
        var map = ShardMapBuilder.Build(24, 3, Silos(3, Flat, prefix: "old"));

        var run = Converge(map, silos, maxMoves: 4);

        AssertBalanced(run.Map, silos);
        Assert.Equal([12, 12, 24, 24], silos.Select(s => Loads(run.Map)[s.SiloKey]));
        AssertLeadersEven(run.Map, silos);
        Assert.Equal(72, run.Moves); // every replica was on a silo that is no longer offered
    }

    [Fact]
    public void A_silo_cannot_hold_more_than_one_replica_of_each_shard_whatever_its_weight()
    {
        // Weights 1, 1, 1, 3: the heavy silo's plain share would be 36 of 72, but it can hold each of the 24 shards once.
        var silos = new List<SiloInfo> { new("a", "eu", "a", 1), new("b", "eu", "a", 1), new("c", "eu", "a", 1), new("d", "eu", "a", 3) };
        var map = ShardMapBuilder.Build(24, 3, silos.Take(3));

        var run = Converge(map, silos);

        Assert.Equal([16, 16, 16, 24], silos.Select(s => Loads(run.Map)[s.SiloKey]));
        Assert.Equal(24, run.Moves);
        AssertBalanced(run.Map, silos);
    }

    [Fact]
    public void Three_regions_of_one_silo_grow_to_two_each_without_losing_a_region()
    {
        var threeByOne = Silos(3, ThreeRegionsTwoZones);
        var map = ShardMapBuilder.Build(16, 3, threeByOne);
        Assert.All(map.Shards, s => Assert.Equal(3, Distinct(s).Regions));

        // One silo at a time joins, in regions eu, us, ap: every intermediate map keeps three regions per shard.
        var silos = threeByOne.ToList();
        foreach (var joining in Silos(6, ThreeRegionsTwoZones).Skip(3))
        {
            silos.Add(joining);
            var run = Converge(map, silos, maxMoves: 1);
            Assert.All(run.Map.Shards, s => Assert.Equal(3, Distinct(s).Regions));
            AssertBalanced(run.Map, silos);
            Assert.Equal(MinimumMoves(map, silos), run.Moves);
            map = run.Map;
        }
    }

    [Fact]
    public void Regions_of_two_two_and_one_silos_put_a_replica_of_every_shard_in_each_region()
    {
        // eu 2, us 2, ap 1; three replicas: ap's lone silo holds every shard (diversity outranks its weight share),
        // and eu's and us's silos split their region's replicas evenly.
        var silos = Silos(5, [("eu", "eu-a"), ("us", "us-a"), ("eu", "eu-b"), ("us", "us-b"), ("ap", "ap-a")]);
        var start = ShardMapBuilder.Build(20, 3, Silos(4, Flat, prefix: "old")); // all in one old region

        var run = Converge(start, silos, maxMoves: 3);

        Assert.All(run.Map.Shards, s => Assert.Equal((3, 3), Distinct(s)));
        var loads = Loads(run.Map);
        Assert.Equal(20, loads["silo-4"]);
        Assert.All(new[] { "silo-0", "silo-1", "silo-2", "silo-3" }, s => Assert.Equal(10, loads[s]));
        AssertBalanced(run.Map, silos);
        Assert.True(RebalancePlanner.Plan(run.Map, silos, new RebalanceLimits(3, NoneBusy)).IsEmpty);
    }

    [Fact]
    public void Five_replicas_over_three_regions_are_spread_two_two_one()
    {
        var silos = Silos(8, [("eu", "eu-a"), ("us", "us-a"), ("ap", "ap-a"), ("eu", "eu-b"), ("us", "us-b"), ("ap", "ap-b"), ("eu", "eu-c"), ("us", "us-c")]);
        // A start with 3 + 1 + 1: three replicas in eu.
        var start = Manual(silos, 16, _ => ["silo-0", "silo-3", "silo-6", "silo-1", "silo-2"]);

        var run = Converge(start, silos, maxMoves: 2);

        foreach (var shard in run.Map.Shards)
        {
            var perRegion = shard.Replicas.GroupBy(r => r.Region).Select(g => g.Count()).Order().ToArray();
            Assert.Equal([1, 2, 2], perRegion);
        }

        AssertBalanced(run.Map, silos);
    }

    [Fact]
    public void Zones_are_filled_when_they_appear()
    {
        // One region; every replica starts in zone a; zones b and c join with two silos each.
        var zoneA = Silos(3, [("eu", "a")], prefix: "a");
        var start = ShardMapBuilder.Build(18, 3, zoneA);
        var silos = zoneA.Concat(Silos(2, [("eu", "b")], prefix: "b")).Concat(Silos(2, [("eu", "c")], prefix: "c")).ToList();

        var run = Converge(start, silos, maxMoves: 2);

        Assert.All(run.Map.Shards, s => Assert.Equal((1, 3), Distinct(s)));
        // Each zone holds 18 replicas (one per shard): 6 per silo in zone a, 9 per silo in b and c.
        var loads = Loads(run.Map);
        Assert.All(zoneA, s => Assert.Equal(6, loads[s.SiloKey]));
        Assert.All(new[] { "b-0", "b-1", "c-0", "c-1" }, s => Assert.Equal(9, loads[s]));
        Assert.Equal(36, run.Moves); // exactly the replicas that must leave zone a
    }

    [Fact]
    public void Learners_count_as_load_but_never_lead()
    {
        var silos = Silos(4, Flat);
        var built = ShardMapBuilder.Build(8, 3, silos.Take(3));
        // Shard 0 gets a fourth replica, a learner, listed first (as if someone had made it the preferred leader).
        var learner = new ReplicaInfo(built.NextReplicaId, "silo-3", "eu", "a", ReplicaRole.Learner);
        var shards = built.Shards.Select(s => s.ShardId == 0 ? s with { Replicas = s.Replicas.Prepend(learner).ToArray() } : s).ToArray();
        var map = new ShardMap(built.Version, shards, built.NextReplicaId + 1);

        var run = Converge(map, silos);

        Assert.Equal(25, Loads(run.Map).Values.Sum());
        AssertBalanced(run.Map, silos);
        AssertLeadersEven(run.Map, silos);
        var shard0 = run.Map.FindShard(0)!;
        Assert.Equal(ReplicaRole.Voter, shard0.Replicas[0].Role);
        Assert.Contains(shard0.Replicas, r => r.ReplicaId == learner.ReplicaId && r.Role == ReplicaRole.Learner);
    }

    [Fact]
    public void Busy_shards_are_left_alone_even_when_they_must_move()
    {
        var silos = Silos(4, Flat);
        var map = ShardMapBuilder.Build(8, 3, silos);
        var offered = silos.Where(s => s.SiloKey != "silo-0").ToList();
        var mustMove = map.Shards.Where(s => s.Replicas.Any(r => r.SiloKey == "silo-0")).Select(s => s.ShardId).ToHashSet();

        var plan = RebalancePlanner.Plan(map, offered, new RebalanceLimits(100, mustMove));

        Assert.DoesNotContain(plan.Moves, m => mustMove.Contains(m.ShardId));
        Assert.DoesNotContain(plan.PreferredLeaders.Keys, mustMove.Contains);
        // Vacating waits for them: nothing else moves meanwhile.
        Assert.Empty(plan.Moves);

        var freed = RebalancePlanner.Plan(map, offered, new RebalanceLimits(100, NoneBusy));
        Assert.Equal(mustMove.Order(), freed.Moves.Select(m => m.ShardId).Order());
    }

    [Fact]
    public void Max_moves_bounds_each_step_and_zero_still_moves_leaders_off_a_drain()
    {
        var silos = Silos(3, Flat);
        var map = ShardMapBuilder.Build(16, 3, silos);
        var six = Silos(6, Flat);
        foreach (int limit in new[] { 1, 2, 5 })
        {
            var plan = RebalancePlanner.Plan(map, six, new RebalanceLimits(limit, NoneBusy));
            Assert.Equal(limit, plan.Moves.Count);
            Assert.Empty(plan.PreferredLeaders); // leaders wait until the replicas are placed
        }

        var draining = silos.Select(s => s.SiloKey == "silo-2" ? s with { Weight = 0 } : s).Concat(six.Skip(3)).ToList();
        var none = RebalancePlanner.Plan(map, draining, new RebalanceLimits(0, NoneBusy));
        Assert.Empty(none.Moves);
        Assert.DoesNotContain(none.ApplyTo(map, draining).Shards, s => s.Replicas[0].SiloKey == "silo-2");
    }

    [Fact]
    public void A_balanced_map_plans_nothing_and_plans_do_not_depend_on_silo_order()
    {
        var silos = Silos(7, ThreeRegionsTwoZones);
        var start = ShardMapBuilder.Build(50, 3, Silos(4, ThreeRegionsTwoZones));
        var reversed = silos.AsEnumerable().Reverse().ToList();

        var a = RebalancePlanner.Plan(start, silos, new RebalanceLimits(7, NoneBusy));
        var b = RebalancePlanner.Plan(start, reversed, new RebalanceLimits(7, NoneBusy));
        Assert.Equal(a.Moves, b.Moves);
        Assert.Equal(a.PreferredLeaders.OrderBy(p => p.Key), b.PreferredLeaders.OrderBy(p => p.Key));

        var balanced = Converge(start, silos).Map;
        var again = RebalancePlanner.Plan(balanced, reversed, new RebalanceLimits(7, NoneBusy));
        Assert.True(again.IsEmpty, Describe(again));
        Assert.Same(balanced, again.ApplyTo(balanced, silos));
    }

    [Fact]
    public void Leaders_are_spread_evenly_and_move_as_little_as_possible()
    {
        var silos = Silos(5, Flat);
        // Every shard led from silo-0: 20 shards over 5 silos → 4 leads each, so 16 leads must move, and no more.
        var start = Manual(silos, 20, i => ["silo-0", $"silo-{1 + (i % 4)}", $"silo-{1 + ((i + 1) % 4)}"]);
        start = Converge(start, silos).Map; // replicas first (silo-0 holds 20 of 60, share 12)
        var pinned = start.Shards.Select(s => s.Replicas[0].SiloKey).ToArray();

        var plan = RebalancePlanner.Plan(start, silos, new RebalanceLimits(3, NoneBusy));

        Assert.Empty(plan.Moves);
        var after = plan.ApplyTo(start, silos);
        AssertLeadersEven(after, silos);
        int excess = Leaders(start).Sum(l => Math.Max(0, l.Value - 4));
        Assert.Equal(excess, plan.PreferredLeaders.Count);
        Assert.Equal(excess, after.Shards.Select((s, i) => s.Replicas[0].SiloKey != pinned[i]).Count(changed => changed));
    }

    [Fact]
    public void Choose_silo_prefers_a_missing_region_then_the_least_loaded()
    {
        var silos = Silos(6, ThreeRegionsTwoZones);
        // Shard 0 on eu and us only (two replicas); ap has two silos, ap-b's less loaded.
        var map = Manual(silos, 4, i => i == 0 ? ["silo-0", "silo-1"] : ["silo-2", "silo-3", "silo-4"]);
        var chosen = RebalancePlanner.ChooseSilo(map, 0, silos);
        Assert.Equal("silo-5", chosen?.SiloKey); // silo-2 (ap-a) already holds 3 replicas
        Assert.Null(RebalancePlanner.ChooseSilo(map, 1, silos.Take(5).ToList().Where(s => s.SiloKey != "silo-0" && s.SiloKey != "silo-1").ToList()));
        Assert.Throws<KeyNotFoundException>(() => RebalancePlanner.ChooseSilo(map, 99, silos));
    }

    [Fact]
    public void Apply_moves_replicas_reorders_leaders_and_checks_the_plan_fits()
    {
        var silos = Silos(4, ThreeRegionsTwoZones);
        var map = Manual(silos, 2, _ => ["silo-0", "silo-1", "silo-2"]);
        var shard1 = map.FindShard(1)!;
        var plan = new RebalancePlan(
            [new PlannedMove(1, shard1.Replicas[1].ReplicaId, "silo-1", "silo-3")],
            new Dictionary<int, long> { [1] = shard1.Replicas[2].ReplicaId });

        var after = plan.ApplyTo(map, silos);

        Assert.Equal(map.Version + 1, after.Version);
        Assert.Equal(map.Shards[0], after.Shards[0]);
        var moved = after.FindShard(1)!;
        Assert.Equal(["silo-2", "silo-0", "silo-3"], moved.Replicas.Select(r => r.SiloKey));
        Assert.Equal(("eu", "eu-b"), (moved.Replicas[2].Region, moved.Replicas[2].Zone));
        Assert.Equal(shard1.Replicas.Select(r => r.ReplicaId).Order(), moved.Replicas.Select(r => r.ReplicaId).Order());

        var wrongFrom = new RebalancePlan([new PlannedMove(1, shard1.Replicas[1].ReplicaId, "silo-0", "silo-3")], new Dictionary<int, long>());
        Assert.Throws<InvalidOperationException>(() => wrongFrom.ApplyTo(map, silos));
        var duplicate = new RebalancePlan([new PlannedMove(1, shard1.Replicas[1].ReplicaId, "silo-1", "silo-0")], new Dictionary<int, long>());
        Assert.Throws<InvalidOperationException>(() => duplicate.ApplyTo(map, silos));
        var unknownSilo = new RebalancePlan([new PlannedMove(1, shard1.Replicas[1].ReplicaId, "silo-1", "nowhere")], new Dictionary<int, long>());
        Assert.Throws<InvalidOperationException>(() => unknownSilo.ApplyTo(map, silos));
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var silos = Silos(3, Flat);
        var map = ShardMapBuilder.Build(4, 3, silos);
        Assert.Throws<ArgumentOutOfRangeException>(() => RebalancePlanner.Plan(map, silos, new RebalanceLimits(-1, NoneBusy)));
        Assert.Throws<ArgumentException>(() => RebalancePlanner.Plan(map, [.. silos, silos[0]], new RebalanceLimits(1, NoneBusy)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RebalancePlanner.Plan(map, [new SiloInfo("x", "eu", "a", -1)], new RebalanceLimits(1, NoneBusy)));
        Assert.Throws<ArgumentNullException>(() => RebalancePlanner.Plan(null!, silos, new RebalanceLimits(1, NoneBusy)));
    }

    /// <summary>A map of <paramref name="shards"/> uniform ranges whose replicas sit on the silos <paramref name="place"/> names.</summary>
    internal static ShardMap Manual(IReadOnlyList<SiloInfo> silos, int shards, Func<int, string[]> place)
    {
        var byKey = silos.ToDictionary(s => s.SiloKey);
        long nextId = 1;
        var ring = HashRing.Uniform(shards);
        var infos = ring.Ranges.Select(r => new ShardInfo(
            r.ShardId,
            r.Start,
            r.End,
            place(r.ShardId).Select(key => new ReplicaInfo(nextId++, key, byKey[key].Region, byKey[key].Zone)).ToArray())).ToArray();
        var map = new ShardMap(1, infos, nextId);
        map.Validate();
        return map;
    }
}
