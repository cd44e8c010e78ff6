using Storage.Shards;

namespace Storage.Directory;

/// <summary>
/// The membership change state machine, pure: given a persisted <see cref="MembershipChange"/>, the current map and
/// the shard leader's view of its group, the next step. Raft changes one node at a time, each committed before the
/// next: add the joining replica as a learner, let it catch up, promote it, record it as a voter in the map; then (if
/// the leaving replica leads, after handing leadership over) remove the leaving replica, drop it from the map and
/// retire it. Every decision is read from the map and the group's committed membership, never from memory, so asking
/// again after any step (or after a directory restart) gives the step that is still missing, and each step is
/// idempotent at the replica. The map follows the group: a replica is dropped from the map only once its removal is
/// committed, and retired only once the map no longer lists it.
/// </summary>
public static class MembershipChangeSteps
{
    public static MembershipStep Next(MembershipChange change, ShardMap map, ReplicaGroupView? leader)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(map);
        var shard = map.FindShard(change.ShardId);
        if (shard is null)
        {
            return Finish($"shard {change.ShardId} is not in map version {map.Version}");
        }

        var joining = change.Joining == 0 ? null : shard.Replicas.FirstOrDefault(r => r.ReplicaId == change.Joining);
        var leavingListed = change.Leaving != 0 && shard.Replicas.Any(r => r.ReplicaId == change.Leaving);
        if (change.Leaving != 0 && !leavingListed)
        {
            // Dropped from the map after its removal committed: only the clean-up is left.
            return new MembershipStep(MembershipStepKind.Retire, change.Leaving);
        }

        if (change.Joining != 0 && joining is null)
        {
            // Recorded in the same map version as the change, so only a map made by someone else lost it.
            return Finish($"joining replica {change.Joining} is no longer in map version {map.Version}");
        }

        if (leader is null || !leader.IsLeader)
        {
            return Wait($"shard {change.ShardId} has no leader to ask");
        }

        if (joining is not null)
        {
            var id = joining.ReplicaId;
            if (!leader.IsMember(id))
            {
                return new MembershipStep(MembershipStepKind.AddLearner, id);
            }

            if (leader.IsLearner(id))
            {
                if (change.CatchUpTo == 0)
                {
                    return new MembershipStep(MembershipStepKind.RecordCatchUp, Index: Math.Max(1, leader.Commit));
                }

                var match = leader.MatchOf(id);
                return match >= change.CatchUpTo
                    ? new MembershipStep(MembershipStepKind.Promote, id)
                    : Wait($"learner {id} matches the leader up to {match} of {change.CatchUpTo}");
            }

            if (joining.Role != ReplicaRole.Voter)
            {
                return new MembershipStep(MembershipStepKind.UpdateMap, id, Map: WithRole(map, shard, id, ReplicaRole.Voter));
            }
        }

        if (change.Leaving != 0)
        {
            var id = change.Leaving;
            if (leader.IsMember(id))
            {
                if (leader.ReplicaId == id)
                {
                    var successor = leader.Voters
                        .Where(v => v != id)
                        .OrderBy(v => v == change.Joining) // routers with an older map know the others, not the newcomer
                        .ThenByDescending(leader.MatchOf)
                        .ThenBy(v => v)
                        .FirstOrDefault();
                    return successor == 0
                        ? Wait($"replica {id} is the only voter")
                        : new MembershipStep(MembershipStepKind.TransferLeadership, successor);
                }

                return new MembershipStep(MembershipStepKind.Remove, id);
            }

            return new MembershipStep(MembershipStepKind.UpdateMap, id, Map: Without(map, shard, id, change.Joining));
        }

        return Finish("done");
    }

    /// <summary>
    /// A map version + 1 in which shard <paramref name="shardId"/> has a new replica (the next unused id) on
    /// <paramref name="silo"/>, as a learner: it joins the group that way and never founds one.
    /// </summary>
    public static (ShardMap Map, long ReplicaId) WithLearner(ShardMap map, int shardId, SiloInfo silo)
    {
        var shard = map.FindShard(shardId) ?? throw new ArgumentException($"shard {shardId} is not in map version {map.Version}", nameof(shardId));
        var id = map.NextReplicaId;
        var replicas = shard.Replicas.Append(new ReplicaInfo(id, silo.SiloKey, silo.Region, silo.Zone, ReplicaRole.Learner)).ToArray();
        return (Replace(map, shard with { Replicas = replicas }, map.NextReplicaId + 1), id);
    }

    private static ShardMap WithRole(ShardMap map, ShardInfo shard, long replica, ReplicaRole role) =>
        Replace(map, shard with { Replicas = shard.Replicas.Select(r => r.ReplicaId == replica ? r with { Role = role } : r).ToArray() }, map.NextReplicaId);

    /// <summary>The shard without <paramref name="leaving"/>; a replica replacing it takes its place in the preference order.</summary>
    private static ShardMap Without(ShardMap map, ShardInfo shard, long leaving, long joining)
    {
        var replicas = shard.Replicas.ToList();
        var slot = replicas.FindIndex(r => r.ReplicaId == leaving);
        var joiner = replicas.FindIndex(r => r.ReplicaId == joining);
        if (joiner >= 0)
        {
            replicas[slot] = replicas[joiner];
            replicas.RemoveAt(joiner);
        }
        else
        {
            replicas.RemoveAt(slot);
        }

        return Replace(map, shard with { Replicas = replicas }, map.NextReplicaId);
    }

    private static ShardMap Replace(ShardMap map, ShardInfo shard, long nextReplicaId)
    {
        var result = new ShardMap(map.Version + 1, map.Shards.Select(s => s.ShardId == shard.ShardId ? shard : s).ToArray(), nextReplicaId);
        result.Validate();
        return result;
    }

    private static MembershipStep Wait(string reason) => new(MembershipStepKind.Wait, Reason: reason);

    private static MembershipStep Finish(string reason) => new(MembershipStepKind.Finish, Reason: reason);
}
