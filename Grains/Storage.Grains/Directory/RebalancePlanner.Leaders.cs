namespace Storage.Directory;

// Preferred leaders: off ineligible silos and learners always; evened out over the silos only when no move is pending.
public static partial class RebalancePlanner
{
    /// <summary>
    /// New preferred leaders (shard id → replica id) for the model after its planned moves. A leader on a learner or on
    /// a draining or given-up silo goes to the voter on an eligible silo that leads least relative to its share. With
    /// <paramref name="balance"/>, leads then go from silos above their ceiling (or above their share, when some silo is
    /// below its floor) along the shortest chain of hand-overs — silo a gives a lead to b, b one to c — to a silo below
    /// its share (floor): the fewest leader changes that fix one excess, each chain lowering the excess by one.
    /// </summary>
    private static Dictionary<int, long> PlanLeaders(PlacementModel model, HashSet<int> busy, bool balance)
    {
        var state = new LeaderState(model, FairShare.Leaders(model));
        for (int shard = 0; shard < model.ShardCount; shard++)
        {
            if (!busy.Contains(shard) && !state.CanLead(shard, model.Leader[shard]))
            {
                int best = state.BestVoter(shard);
                if (best >= 0)
                {
                    state.SetLeader(shard, best);
                }
            }
        }

        if (balance)
        {
            while ((state.FindChain(busy, toBelowShare: true) ?? state.FindChain(busy, toBelowShare: false)) is { } chain)
            {
                foreach (var (shard, replica) in chain)
                {
                    state.SetLeader(shard, replica);
                }
            }
        }

        var result = new Dictionary<int, long>();
        for (int shard = 0; shard < model.ShardCount; shard++)
        {
            if (model.Leader[shard] != 0)
            {
                result.Add(model.Map.Shards[shard].ShardId, model.Replicas[shard][model.Leader[shard]].ReplicaId);
            }
        }

        return result;
    }
}
