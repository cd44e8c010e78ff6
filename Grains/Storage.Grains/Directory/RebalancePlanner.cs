namespace Storage.Directory;

/// <summary>
/// Computes the rebalancer's next step: which replicas move to which silo and which replica of a shard is its preferred
/// leader. Pure and deterministic: no clock, no I/O, no randomness; equal inputs (silos in any order) give equal plans.
/// <para>
/// <b>Target.</b> Every eligible silo (weight above 0) holds between the floor and the ceiling of its fair share of
/// replicas (<see cref="FairShare"/>: total replicas × weight / total weight, bounded by what the diversity rules force),
/// every shard's replicas are spread over as many regions, then zones, as the silos allow, and preferred leaders are
/// spread the same way over the silos holding voters. A silo that is draining (weight 0) or not offered at all (given up)
/// ends with no replicas and no preferred leaders.
/// </para>
/// <para>
/// <b>Why quotas and not a pure ring walk.</b> <see cref="PreferenceListPlacement"/> (consistent hashing over virtual
/// nodes) decides each shard on its own, so with few shards the silos end unevenly loaded (8 shards × 3 replicas over
/// 6 silos: some silos get 2, others 6), and a join or leave moves every replica whose walk changed — more than the
/// minimum. The planner instead moves a replica only from a silo above its ceiling (or one being vacated) to a silo
/// below its share, which reaches an even spread with the fewest moves. Hashing is only used to make the choices among
/// equals deterministic and stable (a rendezvous hash of shard and silo), so that the same map and silos always give the
/// same plan and unrelated changes do not reshuffle the choices.
/// </para>
/// <para>
/// <b>Order of work</b>, one move per shard per plan, at most <see cref="RebalanceLimits.MaxMoves"/> moves, none on
/// <see cref="RebalanceLimits.BusyShards"/>:
/// 1. vacate: replicas on given-up silos, then on draining silos, go to the best destination there is (while one of
///    them can move, no other kind of move is made);
/// 2. repair: a shard whose diversity one move can improve gets that move (diversity outranks load);
/// 3. balance: a replica leaves a silo above its ceiling for one below its share (or, when none is above its ceiling,
///    one above its share for one below its floor), never lowering its shard's diversity.
/// Destinations rank by the diversity they give (a region the shard lacks beats a zone it lacks beats any other), then
/// by load relative to share, then by the rendezvous hash. The replica that leaves an overfull silo is the one whose move
/// helps diversity most, not the preferred leader when another does as well (fewer leadership transfers).
/// Preferred leaders on draining or given-up silos, or on learners, change in every plan; leaders are evened out only in
/// a plan with no moves and none waiting, so a join or drain does not shuffle leadership at every step.
/// </para>
/// <para>
/// <b>Termination.</b> Each move lowers, in order of precedence: the replicas left to vacate; the shards' summed diversity
/// penalties (repairs lower them, balance moves never raise them); the replicas above ceilings; the replicas missing
/// below floors. Each leader change lowers the leaders on ineligible silos, or the leaders above ceilings, or those
/// missing below floors. So repeated plans (each applied) reach an empty plan, and a balanced map plans nothing.
/// </para>
/// </summary>
public static partial class RebalancePlanner
{
    /// <summary>One step toward the target placement of <paramref name="map"/> over <paramref name="silos"/>.</summary>
    /// <param name="map">The current map.</param>
    /// <param name="silos">The silos the map may keep replicas on: active ones and absent ones still inside their grace
    /// period; weight 0 marks a draining silo. A replica on a silo not listed must move.</param>
    /// <param name="limits">How many moves this step may start, and which shards to leave alone.</param>
    public static RebalancePlan Plan(ShardMap map, IReadOnlyList<SiloInfo> silos, RebalanceLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(limits.BusyShards);
        ArgumentOutOfRangeException.ThrowIfNegative(limits.MaxMoves);
        var model = new PlacementModel(map, silos);
        var shares = FairShare.Replicas(model);
        var busy = new HashSet<int>();
        foreach (int shardId in limits.BusyShards)
        {
            if (model.ShardIndex.TryGetValue(shardId, out int index))
            {
                busy.Add(index);
            }
        }

        var search = new MoveSearch(model, shares);
        var touched = new HashSet<int>(busy);
        var moves = new List<PlannedMove>();
        bool waiting;
        while (true)
        {
            var next = search.Next(touched);
            if (next is not { } move)
            {
                // Nothing more this step; work may still wait on busy shards (or on shards moved in this very plan).
                waiting = touched.Count > 0 && search.Next(new HashSet<int>()) is not null;
                break;
            }

            if (moves.Count >= limits.MaxMoves)
            {
                waiting = true;
                break;
            }

            var replica = model.Replicas[move.Shard][move.Replica];
            int from = model.ReplicaSilo[move.Shard][move.Replica];
            moves.Add(new PlannedMove(
                model.Map.Shards[move.Shard].ShardId,
                replica.ReplicaId,
                from >= 0 ? model.Silos[from].SiloKey : replica.SiloKey,
                model.Silos[move.To].SiloKey));
            search.Apply(move);
            touched.Add(move.Shard);
        }

        var leaders = PlanLeaders(model, busy, balance: moves.Count == 0 && !waiting);
        return moves.Count == 0 && leaders.Count == 0 ? RebalancePlan.Empty : new RebalancePlan(moves, leaders);
    }

    /// <summary>
    /// The best silo for one more replica of shard <paramref name="shardId"/> (by the rules for a move's destination:
    /// diversity, then load relative to share, then the rendezvous hash), or null if every eligible silo already holds one.
    /// </summary>
    public static SiloInfo? ChooseSilo(ShardMap map, int shardId, IReadOnlyList<SiloInfo> silos)
    {
        var model = new PlacementModel(map, silos);
        if (!model.ShardIndex.TryGetValue(shardId, out int shard))
        {
            throw new KeyNotFoundException($"shard {shardId} is not in map version {map.Version}");
        }

        var search = new MoveSearch(model, FairShare.Replicas(model));
        int best = search.BestDestination(shard, replica: -1);
        return best < 0 ? null : model.Silos[best];
    }
}
