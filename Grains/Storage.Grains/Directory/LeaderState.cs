namespace Storage.Directory;

/// <summary>
/// Preferred leaders per silo while <see cref="RebalancePlanner"/> changes them: counts and the shards each eligible silo
/// leads, with the silos' fair shares of leaders (<see cref="FairShare.Leaders"/>).
/// </summary>
internal sealed class LeaderState
{
    private readonly PlacementModel _model;
    private readonly double[] _shares;
    private readonly int[] _floor;
    private readonly int[] _ceiling;
    private readonly int[] _count;
    private readonly HashSet<int>[] _led;

    public LeaderState(PlacementModel model, double[] shares)
    {
        _model = model;
        _shares = shares;
        _floor = shares.Select(FairShare.Floor).ToArray();
        _ceiling = shares.Select(FairShare.Ceiling).ToArray();
        _count = new int[model.Silos.Length];
        _led = Enumerable.Range(0, model.Silos.Length).Select(_ => new HashSet<int>()).ToArray();
        for (int shard = 0; shard < model.ShardCount; shard++)
        {
            int silo = model.ReplicaSilo[shard][model.Leader[shard]];
            if (silo >= 0 && model.Eligible[silo])
            {
                _count[silo]++;
                _led[silo].Add(shard);
            }
        }
    }

    /// <summary>A voter on an eligible silo.</summary>
    public bool CanLead(int shard, int replica)
    {
        int silo = _model.ReplicaSilo[shard][replica];
        return _model.IsVoter(shard, replica) && silo >= 0 && _model.Eligible[silo];
    }

    /// <summary>
    /// The voter on an eligible silo whose silo leads least relative to its share (then by hash), or −1 if the shard has
    /// none. A shard led by a learner with no such voter gets its first voter anywhere: a learner cannot lead at all.
    /// </summary>
    public int BestVoter(int shard)
    {
        int best = -1;
        for (int j = 0; j < _model.Replicas[shard].Length; j++)
        {
            if (!CanLead(shard, j))
            {
                continue;
            }

            if (best < 0)
            {
                best = j;
                continue;
            }

            int a = _model.ReplicaSilo[shard][j], b = _model.ReplicaSilo[shard][best];
            int order = CompareLoad(a, b, adding: 1);
            if (order == 0)
            {
                order = -_model.TieBreak(shard, a).CompareTo(_model.TieBreak(shard, b));
            }

            if (order < 0)
            {
                best = j;
            }
        }

        if (best < 0 && !_model.IsVoter(shard, _model.Leader[shard]))
        {
            best = Array.FindIndex(_model.Replicas[shard], r => r.Role == ReplicaRole.Voter);
        }

        return best;
    }

    public void SetLeader(int shard, int replica)
    {
        int from = _model.ReplicaSilo[shard][_model.Leader[shard]];
        if (from >= 0 && _model.Eligible[from])
        {
            _count[from]--;
            _led[from].Remove(shard);
        }

        _model.Leader[shard] = replica;
        int to = _model.ReplicaSilo[shard][replica];
        if (to >= 0 && _model.Eligible[to])
        {
            _count[to]++;
            _led[to].Add(shard);
        }
    }

    /// <summary>
    /// The shortest chain of lead hand-overs (shard, new leader replica) from the most overloaded silo that has one —
    /// above its ceiling, or with <paramref name="toBelowShare"/> false above its share — to a silo below its share
    /// (below its floor), found breadth-first over "silo x leads a shard with a voter on silo y". Among the silos
    /// reached at the least depth, the one leading least relative to its share. Null if there is none.
    /// </summary>
    public List<(int Shard, int Replica)>? FindChain(HashSet<int> busy, bool toBelowShare)
    {
        var sources = new List<int>();
        for (int silo = 0; silo < _model.Silos.Length; silo++)
        {
            if (_model.Eligible[silo] && (toBelowShare ? _count[silo] > _ceiling[silo] : _count[silo] > _shares[silo] + FairShare.Tolerance))
            {
                sources.Add(silo);
            }
        }

        sources.Sort((a, b) =>
        {
            int order = -CompareLoad(a, b, adding: 0);
            return order != 0 ? order : a.CompareTo(b);
        });

        bool IsTarget(int silo) => toBelowShare ? _count[silo] < _shares[silo] - FairShare.Tolerance : _count[silo] < _floor[silo];

        foreach (int source in sources)
        {
            var parent = new Dictionary<int, (int From, int Shard, int Replica)>();
            var frontier = new List<int> { source };
            var visited = new HashSet<int> { source };
            while (frontier.Count > 0)
            {
                // One level: for each newly reached silo, the best edge into it (restoring a shard's original preferred
                // leader first, then the lowest shard id), so iteration order does not matter.
                var reached = new Dictionary<int, (int From, int Shard, int Replica)>();
                foreach (int from in frontier)
                {
                    foreach (int shard in _led[from])
                    {
                        if (busy.Contains(shard))
                        {
                            continue;
                        }

                        for (int j = 0; j < _model.Replicas[shard].Length; j++)
                        {
                            int to = _model.ReplicaSilo[shard][j];
                            if (j == _model.Leader[shard] || !CanLead(shard, j) || visited.Contains(to))
                            {
                                continue;
                            }

                            if (!reached.TryGetValue(to, out var edge) || Better(shard, j, edge.Shard, edge.Replica))
                            {
                                reached[to] = (from, shard, j);
                            }
                        }
                    }
                }

                int target = -1;
                foreach (int silo in reached.Keys)
                {
                    if (IsTarget(silo) && (target < 0 || CompareTarget(silo, target) < 0))
                    {
                        target = silo;
                    }
                }

                foreach (var (silo, edge) in reached)
                {
                    parent[silo] = edge;
                    visited.Add(silo);
                }

                if (target >= 0)
                {
                    var chain = new List<(int Shard, int Replica)>();
                    for (int silo = target; silo != source; silo = parent[silo].From)
                    {
                        chain.Add((parent[silo].Shard, parent[silo].Replica));
                    }

                    chain.Reverse();
                    return chain;
                }

                frontier = reached.Keys.Order().ToList();
            }
        }

        return null;
    }

    private bool Better(int shard, int replica, int otherShard, int otherReplica)
    {
        bool restores = replica == 0, otherRestores = otherReplica == 0;
        return restores != otherRestores ? restores : _model.Map.Shards[shard].ShardId < _model.Map.Shards[otherShard].ShardId;
    }

    private int CompareTarget(int a, int b)
    {
        int order = CompareLoad(a, b, adding: 1);
        return order != 0 ? order : a.CompareTo(b);
    }

    // Leads (plus what is about to arrive) relative to share; equal within rounding compares equal.
    private int CompareLoad(int a, int b, int adding)
    {
        double ra = _shares[a] <= FairShare.Tolerance ? double.PositiveInfinity : (_count[a] + adding) / _shares[a];
        double rb = _shares[b] <= FairShare.Tolerance ? double.PositiveInfinity : (_count[b] + adding) / _shares[b];
        if (double.IsPositiveInfinity(ra) || double.IsPositiveInfinity(rb))
        {
            return ra.CompareTo(rb);
        }

        return Math.Abs(ra - rb) <= 1e-9 * Math.Max(1, Math.Max(ra, rb)) ? 0 : ra.CompareTo(rb);
    }
}
