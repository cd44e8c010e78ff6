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
        }

        int classes = model.Replicas.Max(r => r.Length) + 1;
        foreach (var u in urgency.Order())
        {
            _vacate.Add((u.Shard, u.Replica));
            _urgency.Add((u.GivenUp * classes) + u.Count); // u.Count is minus the shard's replicas to vacate
        }
    }

    /// <summary>The next move, or null when there is none that does not touch a shard in <paramref name="skip"/>.</summary>
    public CandidateMove? Next(IReadOnlySet<int> skip)
    {
        // Vacate. Supply: how many replicas still to vacate could go to each silo. A silo that few of them can reach
        // is filled first, and the replica with the fewest silos left below their ceilings goes first, so that the
        // last ones are not left with only full silos (which would cost a second move each).
        var supply = new int[_model.Silos.Length];
        bool any = false;
        foreach (var (shard, replica) in _vacate)
        {
            if (Vacating(shard, replica))
            {
                any = true;
                for (int silo = 0; silo < supply.Length; silo++)
                {
                    supply[silo] += _model.Eligible[silo] && !_model.Hosts(shard, silo) ? 1 : 0;
                }
            }
        }

        bool vacateWaits = false;
        CandidateMove? vacate = null;
        (int Class, int Room) vacateKey = default;
        for (int k = 0; any && k < _vacate.Count; k++)
        {
            var (shard, replica) = _vacate[k];
            if (!Vacating(shard, replica))
            {
                continue;
            }

            int to = BestDestination(shard, replica, supply);
            if (to < 0)
            {
                continue; // nowhere to go (every eligible silo holds this shard): it stays, and blocks nothing
            }

            if (skip.Contains(shard))
            {
                vacateWaits = true;
                continue;
            }

            int room = 0;
            for (int silo = 0; silo < _model.Silos.Length; silo++)
            {
                room += _model.Eligible[silo] && !_model.Hosts(shard, silo) && _model.Load[silo] < _ceiling[silo] ? 1 : 0;
            }

            // _vacate is in order of urgency class; within the first class with a candidate, the least room wins
            // (none at all counts as the most: such a replica overfills a silo wherever it goes, so it may as well wait).
            var key = (_urgency[k], room == 0 ? int.MaxValue : room);
            if (vacate is null || key.CompareTo(vacateKey) < 0)
            {
                vacate = new CandidateMove(shard, replica, to);
                vacateKey = key;
            }
        }

        if (vacate is not null)
        {
            return vacate;
        }

        if (vacateWaits)
        {
            // Vacating comes first: balancing now could fill the very silos the waiting replicas should go to.
            return null;
        }

        for (int shard = 0; shard < _model.ShardCount; shard++)
        {
            if (_repairable[shard] && !skip.Contains(shard))
            {
                return BestRepair(shard);
            }
        }

        return Balance(skip, fromAboveCeiling: true) ?? Balance(skip, fromAboveCeiling: false);
    }

    public void Apply(CandidateMove move)
    {
        _model.Move(move.Shard, move.Replica, move.To);
        _repairable[move.Shard] = Repairable(move.Shard);
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

    // The move that improves the shard's diversity most; among equals not the preferred leader, then from the most
    // loaded silo, then to the best destination.
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

        if (sources.Count == 0 || destinations.Count == 0)
        {
            return null;
        }

        // The most overloaded source first.
        sources.Sort((a, b) =>
        {
            int order = -CompareRatios(Ratio(a, 0), Ratio(b, 0));
            return order != 0 ? order : a.CompareTo(b);
        });

        foreach (int from in sources)
        {
            CandidateMove? best = null;
            (int Region, int Zone) bestDelta = default;
            foreach (int shard in _model.ShardsOn[from])
            {
                if (skip.Contains(shard))
                {
                    continue;
                }

                int j = Array.IndexOf(_model.ReplicaSilo[shard], from);
                foreach (int to in destinations)
                {
                    if (_model.Hosts(shard, to))
                    {
                        continue;
                    }

                    var delta = _model.MoveDelta(shard, j, to);
                    if (delta.CompareTo((0, 0)) > 0)
                    {
                        continue;
                    }

                    int order = best is not { } b ? -1 : delta.CompareTo(bestDelta);
                    if (order == 0)
                    {
                        var current = best!.Value;
                        order = IsLeader(shard, j).CompareTo(IsLeader(current.Shard, current.Replica));
                        if (order == 0)
                        {
                            order = CompareRatios(Ratio(to, 1), Ratio(current.To, 1));
                        }

                        if (order == 0)
                        {
                            order = -_model.TieBreak(shard, to).CompareTo(_model.TieBreak(current.Shard, current.To));
                        }

                        if (order == 0)
                        {
                            order = shard != current.Shard ? shard.CompareTo(current.Shard) : to.CompareTo(current.To);
                        }
                    }

                    if (order < 0)
                    {
                        best = new CandidateMove(shard, j, to);
                        bestDelta = delta;
                    }
                }
            }

            if (best is not null)
            {
                return best;
            }
        }

        return null;
    }

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
