namespace Storage.Directory;

/// <summary>Which replica goes when a shard has more voters than the replication factor (the planner chooses silos for added ones).</summary>
public static class MembershipChoices
{
    /// <summary>
    /// The voter to remove from a shard with too many: one on a silo outside <paramref name="usable"/> (gone or
    /// draining) first, otherwise the least preferred (last in the map's order, so the preferred leader stays); 0 if
    /// the shard has a single voter.
    /// </summary>
    public static long ChooseLeaving(ShardInfo shard, IReadOnlySet<string> usable)
    {
        var voters = shard.Replicas.Select((r, i) => (Replica: r, Order: i)).Where(v => v.Replica.Role == ReplicaRole.Voter).ToList();
        if (voters.Count <= 1)
        {
            return 0;
        }

        return voters
            .OrderBy(v => usable.Contains(v.Replica.SiloKey))
            .ThenByDescending(v => v.Order)
            .First().Replica.ReplicaId;
    }
}
