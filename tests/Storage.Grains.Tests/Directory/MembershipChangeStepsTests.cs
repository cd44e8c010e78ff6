using Storage.Directory;
using Storage.Shards;
using Xunit.Abstractions;

namespace Storage.Grains.Tests.Directory;

/// <summary>
/// The membership change state machine against a model of one Raft group: the steps in order, the map never ahead of
/// the group's committed membership, and (randomized, seeded) any mix of failed steps, leader changes and directory
/// restarts still ends in the same place.
/// </summary>
public sealed class MembershipChangeStepsTests
{
    private static readonly SiloInfo[] Silos =
    [
        new("s1", "eu", "eu-1", 1),
        new("s2", "us", "us-1", 1),
        new("s3", "ap", "ap-1", 1),
        new("s4", "eu", "eu-2", 1),
        new("s5", "us", "us-2", 1),
    ];

    private readonly ITestOutputHelper _output;

    public MembershipChangeStepsTests(ITestOutputHelper output) => _output = output;

    private static ShardMap ThreeSilos() => ShardMapBuilder.Build(2, 3, Silos.Take(3));

    [Fact]
    public void A_new_replica_enters_the_map_as_a_learner_with_the_next_id()
    {
        var map = ThreeSilos();
        var (added, id) = MembershipChangeSteps.WithLearner(map, 0, Silos[3]);
        Assert.Equal(map.NextReplicaId, id);
        Assert.Equal(map.NextReplicaId + 1, added.NextReplicaId);
        Assert.Equal(map.Version + 1, added.Version);
        var replica = added.FindShard(0)!.Replicas[^1];
        Assert.Equal((id, "s4", ReplicaRole.Learner), (replica.ReplicaId, replica.SiloKey, replica.Role));
        Assert.Equal(map.FindShard(1), added.FindShard(1));
    }

    [Fact]
    public void Replacing_a_follower_adds_catches_up_promotes_then_removes_drops_and_retires()
    {
        var map = ThreeSilos();
        var shard = map.FindShard(0)!;
        var leaving = shard.Replicas[1].ReplicaId;
        var group = Group.Of(shard, leader: shard.Replicas[0].ReplicaId);
        var (started, joining) = MembershipChangeSteps.WithLearner(map, 0, Silos[3]);
        var change = new MembershipChange(0, joining, leaving, "s4", MembershipChangeReason.Replace, DateTime.UtcNow);

        var kinds = Run(ref change, started, group, new Random(1), faults: false, out var final);

        Assert.Equal(
            new[]
            {
                MembershipStepKind.AddLearner, MembershipStepKind.RecordCatchUp, MembershipStepKind.Wait, MembershipStepKind.Promote,
                MembershipStepKind.UpdateMap, MembershipStepKind.Remove, MembershipStepKind.UpdateMap, MembershipStepKind.Retire,
            },
            kinds);
        AssertReplaced(final, group, shard, leaving, joining);
        Assert.Equal(1, final.FindShard(0)!.Replicas.ToList().FindIndex(r => r.ReplicaId == joining)); // took the leaver's place
    }

    [Fact]
    public void Replacing_the_leader_hands_leadership_to_an_old_voter_before_the_removal()
    {
        var map = ThreeSilos();
        var shard = map.FindShard(0)!;
        var leaving = shard.Replicas[0].ReplicaId;
        var group = Group.Of(shard, leader: leaving);
        var (started, joining) = MembershipChangeSteps.WithLearner(map, 0, Silos[3]);
        var change = new MembershipChange(0, joining, leaving, "s4", MembershipChangeReason.Replace, DateTime.UtcNow);

        var steps = new List<MembershipStep>();
        var kinds = Run(ref change, started, group, new Random(1), faults: false, out var final, steps);

        var transfer = steps.Single(s => s.Kind == MembershipStepKind.TransferLeadership);
        Assert.NotEqual(joining, transfer.Replica);
        Assert.Contains(transfer.Replica, shard.Replicas.Select(r => r.ReplicaId));
        Assert.True(kinds.IndexOf(MembershipStepKind.TransferLeadership) < kinds.IndexOf(MembershipStepKind.Remove));
        AssertReplaced(final, group, shard, leaving, joining);
    }

    [Fact]
    public void Adding_a_voter_ends_with_it_promoted_in_group_and_map()
    {
        var map = ThreeSilos();
        var shard = map.FindShard(1)!;
        var group = Group.Of(shard, leader: shard.Replicas[2].ReplicaId);
        var (started, joining) = MembershipChangeSteps.WithLearner(map, 1, Silos[4]);
        var change = new MembershipChange(1, joining, 0, "s5", MembershipChangeReason.ReplicationFactor, DateTime.UtcNow);

        Run(ref change, started, group, new Random(1), faults: false, out var final);

        Assert.Equal(4, group.Voters.Count);
        Assert.Contains(joining, group.Voters);
        Assert.All(final.FindShard(1)!.Replicas, r => Assert.Equal(ReplicaRole.Voter, r.Role));
        Assert.Equal(4, final.FindShard(1)!.Replicas.Count);
    }

    [Fact]
    public void Removing_a_voter_ends_with_it_out_of_group_and_map_and_retired()
    {
        var map = ShardMapBuilder.Build(1, 5, Silos);
        var shard = map.FindShard(0)!;
        var leaving = MembershipChoices.ChooseLeaving(shard, Silos.Select(s => s.SiloKey).ToHashSet());
        Assert.Equal(shard.Replicas[^1].ReplicaId, leaving); // the least preferred, not the preferred leader
        var group = Group.Of(shard, leader: shard.Replicas[0].ReplicaId);
        var change = new MembershipChange(0, 0, leaving, "", MembershipChangeReason.ReplicationFactor, DateTime.UtcNow);

        var kinds = Run(ref change, map, group, new Random(1), faults: false, out var final);

        Assert.Equal(new[] { MembershipStepKind.Remove, MembershipStepKind.UpdateMap, MembershipStepKind.Retire }, kinds);
        Assert.DoesNotContain(leaving, group.Voters);
        Assert.Equal(4, final.FindShard(0)!.Replicas.Count);
        Assert.Equal(new[] { leaving }, group.Retired);
    }

    [Fact]
    public void Without_a_leader_it_waits_and_a_follower_view_is_not_a_leader()
    {
        var map = ThreeSilos();
        var shard = map.FindShard(0)!;
        var change = new MembershipChange(0, 0, shard.Replicas[1].ReplicaId, "", MembershipChangeReason.ReplicationFactor, DateTime.UtcNow);
        Assert.Equal(MembershipStepKind.Wait, MembershipChangeSteps.Next(change, map, null).Kind);
        var follower = Group.Of(shard, leader: shard.Replicas[0].ReplicaId).View(shard.Replicas[2].ReplicaId);
        Assert.Equal(MembershipStepKind.Wait, MembershipChangeSteps.Next(change, map, follower).Kind);
    }

    [Fact]
    public void A_learner_that_has_not_caught_up_is_not_promoted()
    {
        var map = ThreeSilos();
        var shard = map.FindShard(0)!;
        var (started, joining) = MembershipChangeSteps.WithLearner(map, 0, Silos[3]);
        var group = Group.Of(shard, leader: shard.Replicas[0].ReplicaId);
        group.Learners.Add(joining);
        group.Match[joining] = 0;
        var change = new MembershipChange(0, joining, 0, "s4", MembershipChangeReason.ReplicationFactor, DateTime.UtcNow, CatchUpTo: group.Commit);
        Assert.Equal(MembershipStepKind.Wait, MembershipChangeSteps.Next(change, started, group.View(group.Leader)).Kind);
        group.Match[joining] = group.Commit;
        Assert.Equal(MembershipStepKind.Promote, MembershipChangeSteps.Next(change, started, group.View(group.Leader)).Kind);
    }

    [Fact]
    public void The_voter_removed_for_the_replication_factor_is_one_on_an_unusable_silo_first()
    {
        var map = ShardMapBuilder.Build(1, 5, Silos);
        var shard = map.FindShard(0)!;
        var usable = Silos.Select(s => s.SiloKey).Where(s => s != shard.Replicas[1].SiloKey).ToHashSet();
        Assert.Equal(shard.Replicas[1].ReplicaId, MembershipChoices.ChooseLeaving(shard, usable));
        Assert.Equal(0, MembershipChoices.ChooseLeaving(ShardMapBuilder.Build(1, 1, Silos).Shards[0], usable));
    }

    /// <summary>
    /// Seeded: steps fail (their effect does not happen), leadership moves to a random voter, and the directory
    /// "restarts" (the change is taken from its persisted copy only) at random; every run ends replaced, and at no
    /// point is the map ahead of the group.
    /// </summary>
    [Fact]
    public void Failures_leader_changes_and_restarts_at_any_step_still_finish_the_replacement()
    {
        var seed = Environment.GetEnvironmentVariable("MEMBERSHIP_SEED") is { } fixedSeed ? int.Parse(fixedSeed, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
        _output.WriteLine($"seed {seed} (replay: MEMBERSHIP_SEED={seed})");
        var random = new Random(seed);
        for (var run = 0; run < 200; run++)
        {
            var map = ThreeSilos();
            var shard = map.FindShard(0)!;
            var leaving = shard.Replicas[random.Next(3)].ReplicaId;
            var group = Group.Of(shard, leader: shard.Replicas[random.Next(3)].ReplicaId);
            var (started, joining) = MembershipChangeSteps.WithLearner(map, 0, Silos[3 + random.Next(2)]);
            var change = new MembershipChange(0, joining, leaving, started.FindShard(0)!.Replicas[^1].SiloKey, MembershipChangeReason.Replace, DateTime.UtcNow);
            Run(ref change, started, group, random, faults: true, out var final);
            AssertReplaced(final, group, shard, leaving, joining);
        }
    }

    private static void AssertReplaced(ShardMap final, Group group, ShardInfo before, long leaving, long joining)
    {
        var after = final.FindShard(before.ShardId)!;
        Assert.DoesNotContain(after.Replicas, r => r.ReplicaId == leaving);
        Assert.Contains(after.Replicas, r => r.ReplicaId == joining && r.Role == ReplicaRole.Voter);
        Assert.Equal(before.Replicas.Count, after.Replicas.Count);
        Assert.Equal(after.Replicas.Select(r => r.ReplicaId).Order(), group.Voters.Order());
        Assert.Empty(group.Learners);
        Assert.Equal(new[] { leaving }, group.Retired);
        final.Validate();
    }

    /// <summary>Runs the change to its end, carrying out each step on the model; returns the step kinds taken.</summary>
    private static List<MembershipStepKind> Run(ref MembershipChange change, ShardMap map, Group group, Random random, bool faults, out ShardMap final, List<MembershipStep>? steps = null)
    {
        var kinds = new List<MembershipStepKind>();
        var persisted = change;
        for (var i = 0; i < 1000; i++)
        {
            if (faults && random.Next(10) == 0)
            {
                change = persisted; // a directory restart: only what was persisted survives
            }

            if (faults && random.Next(10) == 0)
            {
                group.Leader = group.Voters[random.Next(group.Voters.Count)];
            }

            var step = MembershipChangeSteps.Next(change, map, group.View(group.Leader));
            kinds.Add(step.Kind);
            steps?.Add(step);
            var fails = faults && random.Next(4) == 0;
            switch (step.Kind)
            {
                case MembershipStepKind.Wait:
                    group.CatchUp(); // time passes: a learner receives the log
                    break;
                case MembershipStepKind.AddLearner when !fails:
                    Assert.Equal(change.Joining, step.Replica);
                    group.Learners.Add(step.Replica);
                    group.Match[step.Replica] = 0;
                    break;
                case MembershipStepKind.RecordCatchUp when !fails:
                    change = change with { CatchUpTo = step.Index };
                    persisted = change;
                    break;
                case MembershipStepKind.Promote when !fails:
                    Assert.True(group.Match[step.Replica] >= change.CatchUpTo, "promoted before it caught up");
                    group.Learners.Remove(step.Replica);
                    group.Voters.Add(step.Replica);
                    break;
                case MembershipStepKind.TransferLeadership when !fails:
                    Assert.Contains(step.Replica, group.Voters);
                    group.Leader = step.Replica;
                    break;
                case MembershipStepKind.Remove when !fails:
                    Assert.NotEqual(group.Leader, step.Replica); // a leader is never asked to remove itself
                    Assert.True(change.Joining == 0 || group.Voters.Contains(change.Joining), "removed before the replacement votes");
                    group.Voters.Remove(step.Replica);
                    break;
                case MembershipStepKind.UpdateMap when !fails:
                    // The map follows the committed membership: never a voter the group does not have, never a replica dropped that is still a member.
                    var shard = step.Map!.FindShard(change.ShardId)!;
                    Assert.All(shard.Replicas.Where(r => r.Role == ReplicaRole.Voter), r => Assert.Contains(r.ReplicaId, group.Voters));
                    Assert.All(map.FindShard(change.ShardId)!.Replicas.Where(r => shard.Replicas.All(s => s.ReplicaId != r.ReplicaId)), r => Assert.False(group.IsMember(r.ReplicaId)));
                    Assert.Equal(map.Version + 1, step.Map.Version);
                    map = step.Map;
                    break;
                case MembershipStepKind.Retire when !fails:
                    Assert.False(group.IsMember(step.Replica));
                    Assert.DoesNotContain(map.FindShard(change.ShardId)!.Replicas, r => r.ReplicaId == step.Replica);
                    group.Retired.Add(step.Replica);
                    final = map;
                    return kinds;
                case MembershipStepKind.Finish when !fails:
                    final = map;
                    return kinds;
            }
        }

        throw new InvalidOperationException($"no end after 1000 steps: {string.Join(", ", kinds.TakeLast(10))}");
    }

    /// <summary>A Raft group as its leader reports it: committed membership, commit index, each member's match.</summary>
    private sealed class Group
    {
        public List<long> Voters { get; } = new();

        public List<long> Learners { get; } = new();

        public Dictionary<long, long> Match { get; } = new();

        public List<long> Retired { get; } = new();

        public long Leader { get; set; }

        public long Commit { get; private set; } = 100;

        public static Group Of(ShardInfo shard, long leader)
        {
            var group = new Group { Leader = leader };
            foreach (var r in shard.Replicas)
            {
                group.Voters.Add(r.ReplicaId);
                group.Match[r.ReplicaId] = group.Commit;
            }

            return group;
        }

        public bool IsMember(long id) => Voters.Contains(id) || Learners.Contains(id);

        /// <summary>Writes go on; every learner gains on the leader, a little at a time.</summary>
        public void CatchUp()
        {
            Commit += 5;
            foreach (var id in Match.Keys.ToList())
            {
                Match[id] = Learners.Contains(id) ? Math.Min(Commit, Match[id] + 200) : Commit;
            }
        }

        public ReplicaGroupView View(long replica) => new(
            replica,
            replica == Leader,
            Leader,
            Term: 3,
            Commit,
            LastIndex: Commit,
            Voters.ToArray(),
            Learners.ToArray(),
            replica == Leader ? new Dictionary<long, long>(Match) : new Dictionary<long, long>());
    }
}
