namespace Storage.Directory;

/// <summary>A replica move under consideration: replica <see cref="Replica"/> of shard <see cref="Shard"/> (indices into a <see cref="PlacementModel"/>) to silo <see cref="To"/>.</summary>
internal readonly record struct CandidateMove(int Shard, int Replica, int To);

/// <summary>
/// Finds <see cref="RebalancePlanner"/>'s next replica move on a <see cref="PlacementModel"/>: vacate, then repair, then
/// balance (the rules are on <see cref="RebalancePlanner"/>). Every choice is made by a total order (diversity, leader or
/// not, load relative to share, rendezvous hash, index), so hash-set iteration order never shows in a result.
/// </summary>
internal sealed class MoveSearch
{
    // Diversity changes are small (within ±2 × replicas per shard); the bias keeps them positive inside a packed key.
    private const int DeltaBias = 1 << 20;

    private readonly PlacementModel _model;
    private readonly double[] _shares;
    private readonly int[] _floor;
    private readonly int[] _ceiling;

    // Replicas on silos being vacated, most urgent first: given up before draining, then shards with more to vacate.
    private readonly List<(int Shard, int Replica)> _vacate = new();

    // The urgency class of each entry of _vacate (ascending).
    private readonly List<int> _urgency = new();

    // Per shard: one move would improve its diversity. Depends only on that shard's replicas, so it is recomputed only
    // when the shard moves.
    private readonly bool[] _repairable;
    private int _repairableCount;

    public MoveSearch(PlacementModel model, double[] shares)
    {
        _model = model;
        _shares = shares;
        _floor = shares.Select(FairShare.Floor).ToArray();
        _ceiling = shares.Select(FairShare.Ceiling).ToArray();
        _repairable = new bool[model.ShardCount];
        var urgency = new List<(int GivenUp, int Count, int Shard, int Replica)>();
        for (int i = 0; i < model.ShardCount; i++)
        {
            int count = 0;
            for (int j = 0; j < model.Replicas[i].Length; j++)
            {
                count += Vacating(i, j) ? 1 : 0;
            }

            for (int j = 0; j < model.Replicas[i].Length; j++)
            {
                if (Vacating(i, j))
                {
                    urgency.Add((model.ReplicaSilo[i][j] < 0 ? 0 : 1, -count, i, j));
                }
            }

            _repairable[i] = Repairable(i);
            _repairableCount += _repairable[i] ? 1 : 0;
        }

        int classes = model.Replicas.Max(r => r.Length) + 1;
        foreach (var u in urgency.Order())
        {
            _vacate.Add((u.Shard, u.Replica));
            _urgency.Add((u.GivenUp * classes) + u.Count); // u.Count is minus the shard's replicas to vacate
        }
    }

    /// <summary>
    /// The next move — or chain of moves, see <see cref="Chain"/> — that touches no shard in <paramref name="skip"/>;
    /// empty when there is none.
    /// </summary>
    public IReadOnlyList<CandidateMove> Next(IReadOnlySet<int> skip) =>
        NextMove(skip, out bool vacateWaits) is { } move ? [move]
        : vacateWaits ? []
        : Chain(skip, fromAboveCeiling: true) ?? Chain(skip, fromAboveCeiling: false) ?? [];

    private CandidateMove? NextMove(IReadOnlySet<int> skip, out bool vacateWaits)
    {
        // Vacate. Supply: how many replicas still to vacate could go to each silo. A silo that few of them can reach
        // is filled first, and the replica with the fewest silos left below their ceilings goes first, so that the
        // last ones are not left with only full silos (which would cost a second move each). Both are counted from the
        // few replicas of each shard (what it occupies), not by testing every silo: this runs once per planned move.
        int pending = 0;
        var occupied = new int[_model.Silos.Length]; // pending replicas whose shard already has a replica on the silo
        int withRoom = 0;
        for (int silo = 0; silo < _model.Silos.Length; silo++)
        {
            withRoom += HasRoom(silo) ? 1 : 0;
        }

        foreach (var (shard, replica) in _vacate)
        {
            if (Vacating(shard, replica))
            {
                pending++;
                foreach (int silo in _model.ReplicaSilo[shard])
                {
                    if (silo >= 0)
                    {
                        occupied[silo]++;
                    }
                }
            }
        }

        var supply = new int[_model.Silos.Length];
        for (int silo = 0; silo < supply.Length; silo++)
        {
            supply[silo] = pending - occupied[silo];
        }

        vacateWaits = false;
        int chosen = -1;
        (int Class, int Room) vacateKey = default;
        for (int k = 0; pending > 0 && k < _vacate.Count; k++)
        {
            var (shard, replica) = _vacate[k];
            if (!Vacating(shard, replica))
            {
                continue;
            }

            if (chosen >= 0 && (_urgency[k] > vacateKey.Class || vacateKey.Room == 1))
            {
                break; // a later class cannot win, nor can anything beat a single silo with room
            }

            int onEligible = 0, onRoom = 0;
            foreach (int silo in _model.ReplicaSilo[shard])
            {
                onEligible += silo >= 0 && _model.Eligible[silo] ? 1 : 0;
                onRoom += silo >= 0 && HasRoom(silo) ? 1 : 0;
            }

            if (onEligible == _model.EligibleCount)
            {
                continue; // nowhere to go (every eligible silo holds this shard): it stays, and blocks nothing
            }

            if (skip.Contains(shard))
            {
                vacateWaits = true;
                continue;
            }

            // _vacate is in order of urgency class; within the first class with a candidate, the least room wins
            // (none at all counts as the most: such a replica overfills a silo wherever it goes, so it may as well wait).
            int room = withRoom - onRoom;
            var key = (_urgency[k], room == 0 ? int.MaxValue : room);
            if (chosen < 0 || key.CompareTo(vacateKey) < 0)
            {
                chosen = k;
                vacateKey = key;
            }
        }

        if (chosen >= 0)
        {
            var (shard, replica) = _vacate[chosen];
            return new CandidateMove(shard, replica, BestDestination(shard, replica, supply));
        }

        if (vacateWaits)
        {
            // Vacating comes first: balancing now could fill the very silos the waiting replicas should go to.
            return null;
        }

        if (_repairableCount > 0 && Repair(skip) is { } repair)
        {
            return repair;
        }

        return Balance(skip, fromAboveCeiling: true) ?? Balance(skip, fromAboveCeiling: false);
    }

    public void Apply(CandidateMove move)
    {
        _model.Move(move.Shard, move.Replica, move.To);
        _repairableCount -= _repairable[move.Shard] ? 1 : 0;
        _repairable[move.Shard] = Repairable(move.Shard);
        _repairableCount += _repairable[move.Shard] ? 1 : 0;
    }

    /// <summary>
    /// The best eligible silo without a replica of <paramref name="shard"/> for its replica <paramref name="replica"/>
    /// (−1: a new replica), or −1 if there is none: most diversity, then (when vacating, given the
    /// <paramref name="supply"/> of replicas to vacate that each silo could take) the largest room below share per
    /// replica that could fill it, then least loaded relative to share, then hash.
    /// </summary>
    public int BestDestination(int shard, int replica, int[]? supply = null)
    {
        int best = -1;
        (int Region, int Zone) bestDelta = default;
        for (int silo = 0; silo < _model.Silos.Length; silo++)
        {
            if (!_model.Eligible[silo] || _model.Hosts(shard, silo))
            {
                continue;
            }

            var delta = replica >= 0 ? _model.MoveDelta(shard, replica, silo) : _model.AddDelta(shard, silo);
            int order = best < 0 ? -1 : delta.CompareTo(bestDelta);
            if (order == 0 && supply is not null)
            {
                order = -CompareRatios(Need(silo) / supply[silo], Need(best) / supply[best]);
            }

            if (order == 0)
            {
                order = CompareDestinations(shard, silo, best);
            }

            if (order < 0)
            {
                best = silo;
                bestDelta = delta;
            }
        }

        return best;
    }

    private bool Vacating(int shard, int replica)
    {
        int silo = _model.ReplicaSilo[shard][replica];
        return silo < 0 || !_model.Eligible[silo];
    }

    private bool Repairable(int shard)
    {
        for (int j = 0; j < _model.Replicas[shard].Length; j++)
        {
            for (int silo = 0; silo < _model.Silos.Length; silo++)
            {
                if (_model.Eligible[silo] && !_model.Hosts(shard, silo) && _model.MoveDelta(shard, j, silo).CompareTo((0, 0)) < 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    // Per repairable shard the move that improves its diversity most (among equals: not the preferred leader, then
    // from the most loaded silo, then to the best destination); of those, the one leaving the most loaded silo, so that
    // repairs use up surpluses before they dig into silos at or below their share.
    private CandidateMove? Repair(IReadOnlySet<int> skip)
    {
        CandidateMove? chosen = null;
        for (int shard = 0; shard < _model.ShardCount; shard++)
        {
            if (!_repairable[shard] || skip.Contains(shard) || BestRepair(shard) is not { } move)
            {
                continue;
            }

            int order = chosen is not { } current ? -1 : -CompareRatios(SourceRatio(shard, move.Replica), SourceRatio(current.Shard, current.Replica));
            if (order == 0)
            {
                var other = chosen!.Value;
                order = _model.MoveDelta(shard, move.Replica, move.To).CompareTo(_model.MoveDelta(other.Shard, other.Replica, other.To));
            }

            if (order < 0)
            {
                chosen = move;
            }
        }

        return chosen;
    }

    private CandidateMove? BestRepair(int shard)
    {
        CandidateMove? best = null;
        (int Region, int Zone) bestDelta = default;
        for (int j = 0; j < _model.Replicas[shard].Length; j++)
        {
            for (int silo = 0; silo < _model.Silos.Length; silo++)
            {
                if (!_model.Eligible[silo] || _model.Hosts(shard, silo))
                {
                    continue;
                }

                var delta = _model.MoveDelta(shard, j, silo);
                if (delta.CompareTo((0, 0)) >= 0)
                {
                    continue;
                }

                int order = best is not { } b ? -1 : delta.CompareTo(bestDelta);
                if (order == 0)
                {
                    var current = best!.Value;
                    order = IsLeader(shard, j).CompareTo(IsLeader(shard, current.Replica));
                    if (order == 0)
                    {
                        order = -CompareRatios(SourceRatio(shard, j), SourceRatio(shard, current.Replica));
                    }

                    if (order == 0)
                    {
                        order = current.Replica == j ? CompareDestinations(shard, silo, current.To) : j.CompareTo(current.Replica);
                    }
                }

                if (order < 0)
                {
                    best = new CandidateMove(shard, j, silo);
                    bestDelta = delta;
                }
            }
        }

        return best;
    }

    // A move off a silo above its ceiling to one below its share, or (when no silo is above its ceiling, or none of
    // their replicas can go) off one above its share to one below its floor. Never lowers the shard's diversity.
    private CandidateMove? Balance(IReadOnlySet<int> skip, bool fromAboveCeiling)
    {
        var (sources, destinations) = Ends(fromAboveCeiling);
        if (sources.Count == 0 || destinations.Count == 0)
        {
            return null;
        }

        // Destinations ranked once by load relative to share (equal within rounding, equal rank).
        var rank = new int[destinations.Count];
        for (int k = 1; k < rank.Length; k++)
        {
            rank[k] = CompareRatios(Ratio(destinations[k], 1), Ratio(destinations[k - 1], 1)) == 0 ? rank[k - 1] : k;
        }

        foreach (int from in sources)
        {
            if (BestMove(from, destinations, rank, skip.Contains) is { } found)
            {
                return found.Move;
            }
        }

        return null;
    }

    // Silos to take from (the most overloaded first) and to give to (the least loaded first): above the ceiling and
    // below the share, or above the share and below the floor.
    private (List<int> Sources, List<int> Destinations) Ends(bool fromAboveCeiling)
    {
        var sources = new List<int>();
        var destinations = new List<int>();
        for (int silo = 0; silo < _model.Silos.Length; silo++)
        {
            if (!_model.Eligible[silo])
            {
                continue;
            }

            int load = _model.Load[silo];
            if (fromAboveCeiling ? load > _ceiling[silo] : load > _shares[silo] + FairShare.Tolerance)
            {
                sources.Add(silo);
            }

            if (fromAboveCeiling ? load < _shares[silo] - FairShare.Tolerance : load < _floor[silo])
            {
                destinations.Add(silo);
            }
        }

        sources.Sort((a, b) =>
        {
            int order = -CompareRatios(Ratio(a, 0), Ratio(b, 0));
            return order != 0 ? order : a.CompareTo(b);
        });
        destinations.Sort((a, b) =>
        {
            int order = CompareRatios(Ratio(a, 1), Ratio(b, 1));
            return order != 0 ? order : a.CompareTo(b);
        });
        return (sources, destinations);
    }

    /// <summary>
    /// The best move of a replica off silo <paramref name="from"/> to one of <paramref name="destinations"/> that does
    /// not lower its shard's diversity, skipping <paramref name="excluded"/> shards. Best by (diversity change, is the
    /// preferred leader, destination rank) packed into <c>Key</c> (lower wins), then the rendezvous hash (higher
    /// wins), then shard and silo index. Runs for every replica on the silo: it must stay cheap.
    /// </summary>
    private (CandidateMove Move, long Key, ulong Hash)? BestMove(int from, List<int> destinations, int[] rank, Func<int, bool> excluded)
    {
        long bestKey = long.MaxValue;
        ulong bestHash = 0;
        int bestShard = -1, bestReplica = -1, bestTo = -1;
        foreach (int shard in _model.ShardsOn[from])
        {
            if (excluded(shard))
            {
                continue;
            }

            int j = Array.IndexOf(_model.ReplicaSilo[shard], from);
            long leader = IsLeader(shard, j) ? 1 : 0;
            for (int k = 0; k < destinations.Count; k++)
            {
                int to = destinations[k];
                if (_model.Hosts(shard, to))
                {
                    continue;
                }

                var (region, zone) = _model.MoveDelta(shard, j, to);
                if (region > 0 || (region == 0 && zone > 0))
                {
                    continue;
                }

                long key = ((long)(region + DeltaBias) << 42) | ((long)(zone + DeltaBias) << 20) | (leader << 19) | (long)rank[k];
                if (key > bestKey)
                {
                    continue;
                }

                ulong hash = _model.TieBreak(shard, to);
                if (key < bestKey || hash > bestHash || (hash == bestHash && (shard < bestShard || (shard == bestShard && to < bestTo))))
                {
                    (bestKey, bestHash, bestShard, bestReplica, bestTo) = (key, hash, shard, j, to);
                }
            }
        }

        return bestShard < 0 ? null : (new CandidateMove(bestShard, bestReplica, bestTo), bestKey, bestHash);
    }

    /// <summary>
    /// When no single move balances (every replica on an overloaded silo belongs to a shard the underloaded silos hold
    /// already, or would lose diversity there), the shortest chain of moves that does: a replica from overloaded silo a
    /// to silo b, another from b to c, … to an underloaded silo, each on a different shard and none lowering its shard's
    /// diversity. The silos in between end where they were, so the chain has the effect of one move, at the cost of
    /// several; it is only looked for once single moves are exhausted. Null if there is none.
    /// </summary>
    private List<CandidateMove>? Chain(IReadOnlySet<int> skip, bool fromAboveCeiling)
    {
        var (sources, targets) = Ends(fromAboveCeiling);
        if (sources.Count == 0 || targets.Count == 0)
        {
            return null;
        }

        var isTarget = new bool[_model.Silos.Length];
        targets.ForEach(t => isTarget[t] = true);
        var parent = new Dictionary<int, (int From, CandidateMove Move)>();
        var visited = new HashSet<int>(sources);
        var frontier = sources;
        while (frontier.Count > 0)
        {
            // One level: for each silo not reached yet, the best edge into it from any silo of the frontier.
            var reached = new SortedDictionary<int, (int From, CandidateMove Move, long Key, ulong Hash)>();
            foreach (int from in frontier)
            {
                var used = new HashSet<int>();
                for (int silo = from; parent.TryGetValue(silo, out var edge); silo = edge.From)
                {
                    used.Add(edge.Move.Shard);
                }

                for (int to = 0; to < _model.Silos.Length; to++)
                {
                    if (!_model.Eligible[to] || visited.Contains(to))
                    {
                        continue;
                    }

                    if (BestMove(from, [to], [0], shard => skip.Contains(shard) || used.Contains(shard)) is { } found
                        && (!reached.TryGetValue(to, out var other) || found.Key < other.Key || (found.Key == other.Key && found.Hash > other.Hash)))
                    {
                        reached[to] = (from, found.Move, found.Key, found.Hash);
                    }
                }
            }

            int target = -1;
            foreach (int silo in reached.Keys)
            {
                if (isTarget[silo] && (target < 0 || CompareRatios(Ratio(silo, 1), Ratio(target, 1)) < 0))
                {
                    target = silo;
                }
            }

            foreach (var (silo, edge) in reached)
            {
                parent[silo] = (edge.From, edge.Move);
                visited.Add(silo);
            }

            if (target >= 0)
            {
                var chain = new List<CandidateMove>();
                for (int silo = target; parent.TryGetValue(silo, out var edge); silo = edge.From)
                {
                    chain.Add(edge.Move);
                }

                // Fill the end first: every prefix leaves no silo above where it started.
                return chain;
            }

            frontier = reached.Keys.Where(s => !isTarget[s]).ToList();
        }

        return null;
    }

    private bool HasRoom(int silo) => _model.Eligible[silo] && _model.Load[silo] < _ceiling[silo];

    private double Need(int silo) => _shares[silo] - _model.Load[silo];

    private bool IsLeader(int shard, int replica) => _model.Leader[shard] == replica;

    // Negative when silo a is the better destination for the shard: lower load relative to share, then higher hash.
    private int CompareDestinations(int shard, int a, int b)
    {
        int order = CompareRatios(Ratio(a, 1), Ratio(b, 1));
        if (order == 0)
        {
            order = -_model.TieBreak(shard, a).CompareTo(_model.TieBreak(shard, b));
        }

        return order != 0 ? order : a.CompareTo(b);
    }

    private double SourceRatio(int shard, int replica)
    {
        int silo = _model.ReplicaSilo[shard][replica];
        return silo < 0 ? double.PositiveInfinity : Ratio(silo, 0);
    }

    // The silo's load (plus what is about to arrive) relative to its share; infinite for a silo whose share is 0.
    private double Ratio(int silo, int adding) =>
        _shares[silo] <= FairShare.Tolerance ? double.PositiveInfinity : (_model.Load[silo] + adding) / _shares[silo];

    // Ratios of equal loads over shares that differ only by rounding compare equal, so ties go to the hash, not to noise.
    private static int CompareRatios(double a, double b)
    {
        if (double.IsPositiveInfinity(a) || double.IsPositiveInfinity(b))
        {
            return a.CompareTo(b);
        }

        return Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Max(a, b)) ? 0 : a.CompareTo(b);
    }
}
