using System.Diagnostics.CodeAnalysis;
using Storage.Raft.Quorum;

namespace Storage.Raft.Tracker;

/// <summary>
/// The active configuration, the leader's <see cref="Progress"/> for each member, and the votes of the current
/// election (etcd-raft's <c>tracker.ProgressTracker</c>). Every majority question goes through <see cref="Voters"/>.
/// </summary>
internal sealed class ProgressTracker
{
    // Sorted by id: messages to the members leave in id order, which the simulator's seeds depend on.
    private readonly SortedDictionary<long, Progress> _progress = new();
    private readonly Dictionary<long, bool> _votes = new();
    private readonly int _maxInflight;
    private readonly Func<long, long> _matchOf;

    public ProgressTracker(int maxInflight)
    {
        _maxInflight = maxInflight;
        _matchOf = id => _progress.TryGetValue(id, out var pr) ? pr.Match : 0;
    }

    /// <summary>The membership in force.</summary>
    public ConfState Config { get; private set; } = ConfState.Empty;

    public MajorityConfig Voters { get; private set; }

    /// <summary>Every member's progress, in id order.</summary>
    public IReadOnlyDictionary<long, Progress> ProgressMap => _progress;

    public bool TryGetProgress(long id, [NotNullWhen(true)] out Progress? progress) => _progress.TryGetValue(id, out progress);

    /// <summary>
    /// Switches to <paramref name="config"/>: drops the progress of members that left, starts it for members that
    /// joined (optimistically at <paramref name="next"/>; this node at <paramref name="selfMatch"/>; heard from at
    /// <paramref name="tick"/>) and keeps it for the rest. Returns the ids whose progress was dropped or started.
    /// </summary>
    public IReadOnlyList<long> ApplyConfig(ConfState config, long next, long selfId, long selfMatch, long tick)
    {
        Config = config;
        Voters = new MajorityConfig(config.Voters);
        var changed = new List<long>();
        foreach (var id in _progress.Keys.ToList())
        {
            if (!config.IsMember(id))
            {
                _progress.Remove(id);
                changed.Add(id);
            }
        }

        foreach (var id in config.Members)
        {
            if (_progress.TryGetValue(id, out var pr))
            {
                pr.IsLearner = config.IsLearner(id);
            }
            else
            {
                _progress[id] = new Progress(next, _maxInflight, config.IsLearner(id))
                {
                    Match = id == selfId ? selfMatch : 0,
                    LastHeardTick = tick,
                };
                changed.Add(id);
            }
        }

        return changed;
    }

    /// <summary>Starts every member's progress afresh (on a change of term or role), as heard from at <paramref name="tick"/>.</summary>
    public void ResetProgress(long next, long selfId, long selfMatch, long tick)
    {
        _progress.Clear();
        foreach (var id in Config.Members)
        {
            var pr = new Progress(next, _maxInflight, Config.IsLearner(id)) { LastHeardTick = tick };
            if (id == selfId)
            {
                pr.Match = selfMatch;
            }

            _progress[id] = pr;
        }
    }

    /// <summary>The highest index a majority of voters has durably replicated.</summary>
    public long Committed() => Voters.CommittedIndex(_matchOf);

    /// <summary>Whether a majority of voters (this node included) was heard from since the last <see cref="ResetRecentActive"/>.</summary>
    public bool QuorumActive(long selfId)
    {
        var active = new Dictionary<long, bool>();
        foreach (var id in Config.Voters)
        {
            active[id] = id == selfId || (_progress.TryGetValue(id, out var pr) && pr.RecentActive);
        }

        return Voters.VoteResult(active) == VoteResult.Won;
    }

    /// <summary>
    /// Whether a majority of voters (this node included) was heard from at or after <paramref name="sinceTick"/>.
    /// </summary>
    public bool QuorumHeardSince(long selfId, long sinceTick)
    {
        var heard = new Dictionary<long, bool>();
        foreach (var id in Config.Voters)
        {
            heard[id] = id == selfId || (_progress.TryGetValue(id, out var pr) && pr.LastHeardTick >= sinceTick);
        }

        return Voters.VoteResult(heard) == VoteResult.Won;
    }

    public void ResetRecentActive(long selfId)
    {
        foreach (var (id, pr) in _progress)
        {
            if (id != selfId)
            {
                pr.RecentActive = false;
            }
        }
    }

    public void ResetVotes() => _votes.Clear();

    /// <summary>Records <paramref name="id"/>'s answer (its first one counts; non-voters are ignored) and tallies the election.</summary>
    public VoteResult RecordVote(long id, bool granted)
    {
        if (Config.IsVoter(id))
        {
            _votes.TryAdd(id, granted);
        }

        return Voters.VoteResult(_votes);
    }
}
