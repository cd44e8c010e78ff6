using Storage.Raft.Tracker;

namespace Storage.Raft;

/// <summary>
/// One member of a Raft group as a deterministic state machine (modelled on etcd-raft). Inputs:
/// <see cref="Step"/>, <see cref="Tick"/>, <see cref="Propose"/>, <see cref="ReadIndex"/>,
/// <see cref="ProposeConfChange"/>, <see cref="TransferLeadership"/>, <see cref="Wake"/>. Output: <see cref="Ready"/> batches,
/// acknowledged with <see cref="Advance"/>. No I/O, clock or threads: time is ticks, randomness is the
/// <see cref="Random"/> passed in. Not thread-safe; drive it from one thread (or one grain turn) at a time.
/// </summary>
/// <remarks>
/// <para>
/// Membership changes one node at a time and take effect when the change is appended (Raft thesis §4.1),
/// so the configuration is a function of the log (<see cref="MembershipHistory"/>): a restart or truncation
/// recomputes it with no extra state. A new change is refused until the previous one is committed and the leader
/// has committed an entry of its own term. A leader's own log counts toward commit only once it is durable (at
/// <see cref="Advance"/>); followers acknowledge only durable entries (<see cref="Ready.PersistedMessages"/>).
/// </para>
/// <para>
/// The node decides; its collaborators keep the books: <see cref="ProgressTracker"/> (members, their progress, the
/// votes; every majority through <see cref="MajorityConfig"/>), <see cref="Storage.Raft.ReadOnly"/> (ReadIndex
/// requests, read rounds, the lease), <see cref="MembershipHistory"/> and <see cref="RaftLog"/>. The few rules
/// the tests break on purpose to prove the simulator catches them are <c>private protected virtual</c>.
/// </para>
/// </remarks>
public partial class RaftNode
{
    private readonly RaftConfig _config;
    private readonly Random _random;
    private readonly RaftLog _log;
    private readonly ProgressTracker _tracker;
    private readonly ReadOnly _readOnly;
    private readonly MembershipHistory _membership;
    private List<Message> _messages = new();
    private List<ReadState> _readStates = new();

    private int _randomizedElectionTimeout;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private long _tickCount;
    private long _leadTransferee;
    private long _pendingConfIndex;
    private bool _broadcastPending;

    public RaftNode(RaftConfig config, IRaftLog storage, Random random)
    {
        config.Validate();
        _config = config;
        _random = random;
        _log = new RaftLog(storage);
        _log.InitApplied(Math.Max(config.Applied, storage.Snapshot.Index));
        _tracker = new ProgressTracker(config.MaxInflightMsgs);
        _readOnly = new ReadOnly(config.ReadOnlyOption, config.ElectionTick - config.MaxClockDriftTicks);

        _membership = new MembershipHistory(storage.Snapshot.Metadata.ConfState);
        ApplyConf(_membership.Current);
        if (storage.LastIndex >= storage.FirstIndex)
        {
            foreach (var e in storage.Entries(storage.FirstIndex, storage.LastIndex + 1, long.MaxValue))
            {
                TrackConfEntry(e);
            }
        }

        var hs = storage.HardState;
        BecomeFollower(hs.Term, 0);
        Vote = hs.Vote;
        _prevHardState = HardStateNow;
        _persistedHardState = _prevHardState;
        _prevSoftState = new SoftState(0, RaftRole.Follower);
    }

    public long Id => _config.Id;

    public long Term { get; private set; }

    public long Vote { get; private set; }

    public long Leader { get; private set; }

    public RaftRole Role { get; private set; }

    public long CommitIndex => _log.Committed;

    public long AppliedIndex => _log.Applied;

    public long LastIndex => _log.LastIndex;

    public long FirstIndex => _log.FirstIndex;

    /// <summary>The membership in force (the latest change in the log, committed or not).</summary>
    public ConfState Conf => _tracker.Config;

    /// <summary>Ticks seen by this node; the leader's lease is measured in them.</summary>
    public long TickCount => _tickCount;

    /// <summary>Whether this node could become leader (it is a voter in its current membership).</summary>
    public bool IsPromotable => Conf.IsVoter(Id);

    private HardState HardStateNow => new(Term, Vote, _log.Committed);

    // ---------------------------------------------------------------- inputs

    /// <summary>
    /// One unit of time. On a quiesced node (<see cref="IsQuiesced"/>) a no-op: not even the node's tick count moves,
    /// so a host that stops ticking quiesced nodes changes nothing.
    /// </summary>
    public void Tick()
    {
        if (_quiesced)
        {
            return;
        }

        _tickCount++;
        if (Role == RaftRole.Leader)
        {
            TickLeader();
        }
        else
        {
            TickElection();
        }
    }

    /// <summary>Starts an election now (as if the election timeout elapsed).</summary>
    public void Campaign()
    {
        Wake();
        if (Role != RaftRole.Leader && IsPromotable)
        {
            StartCampaign(_config.PreVote ? CampaignKind.PreElection : CampaignKind.Election);
        }
    }

    /// <summary>Appends an entry (leader only). Wakes a quiesced node, leader or not.</summary>
    public ProposeResult Propose(byte[] data)
    {
        Wake();
        return RefuseProposal() ?? AppendProposal(EntryType.Normal, data);
    }

    /// <summary>Appends a membership change (leader only). Wakes a quiesced node, leader or not.</summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        Wake();
        if (RefuseProposal() is { } refused)
        {
            return refused;
        }

        if (_pendingConfIndex > _log.Committed)
        {
            return new ProposeResult(ProposeOutcome.ConfChangeRejected, 0, 0, Id,
                $"a membership change (or this leader's first entry) at {_pendingConfIndex} is not committed yet");
        }

        if (change.ApplyTo(Conf, out var reason) is null)
        {
            return new ProposeResult(ProposeOutcome.ConfChangeRejected, 0, 0, Id, reason);
        }

        var result = AppendProposal(EntryType.ConfChange, change.Encode());
        _pendingConfIndex = result.Index;
        return result;
    }

    /// <summary>
    /// Requests a linearizable read point. A <see cref="ReadState"/> with this context appears in a later
    /// Ready; serve the read once applied reaches its index. False when no leader is known (retry later).
    /// Contexts must be unique among this node's outstanding reads. Wakes a quiesced node (even when it returns false).
    /// </summary>
    public bool ReadIndex(long context)
    {
        Wake();
        if (Role == RaftRole.Leader)
        {
            HandleReadIndex(Id, context);
            return true;
        }

        if (Leader == 0)
        {
            return false;
        }

        Send(new Message { Type = MessageType.ReadIndex, To = Leader, Context = context });
        return true;
    }

    /// <summary>
    /// Whether a linearizable read may be served now, without a heartbeat round, and from which index: true for a
    /// leader that has committed in its term and is the only voter or holds its lease
    /// (<see cref="ReadOnlyOption.LeaseBased"/>); the read must see the state machine at <paramref name="index"/> or
    /// later. False: use <see cref="ReadIndex"/>. Always false on a quiesced leader (it dropped its lease when it
    /// quiesced): the <see cref="ReadIndex"/> that follows wakes it and goes through a heartbeat round.
    /// </summary>
    public bool TryLeaseRead(out long index)
    {
        index = 0;
        if (Role != RaftRole.Leader || !CommittedInCurrentTerm())
        {
            return false;
        }

        if ((Conf.Voters.Count == 1 && Conf.IsVoter(Id)) || _readOnly.HoldsLease(_tickCount))
        {
            index = _log.Committed;
            return true;
        }

        return false;
    }

    /// <summary>Hands leadership to <paramref name="target"/>; aborted if it is not done within an election timeout.</summary>
    public bool TransferLeadership(long target)
    {
        Wake();
        if (Role != RaftRole.Leader || target == Id || !Conf.IsVoter(target))
        {
            return false;
        }

        if (_leadTransferee == target)
        {
            return true;
        }

        // The old leader must stop serving lease reads: the target may win before the lease runs out.
        _readOnly.ExpireLease();
        _electionElapsed = 0;
        _leadTransferee = target;
        if (_tracker.ProgressMap[target].Match == _log.LastIndex)
        {
            SendTimeoutNow(target);
        }
        else
        {
            SendAppend(target);
        }

        return true;
    }

    public void Step(Message m)
    {
        if (_quiesced && !KeepsQuiesced(m))
        {
            WakeUp(cause: m.From);
        }

        var sameTerm = m.Term == Term;
        if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                // Leader stickiness: a follower that heard from a leader within the election timeout
                // ignores campaigns (this is what makes CheckQuorum and leases sound).
                var inLease = _config.CheckQuorum && Leader != 0 && _electionElapsed < _config.ElectionTick;

                // With leases, a restarted node must not vote before an election timeout: it may have
                // acknowledged a heartbeat that extended the current leader's lease just before it crashed.
                inLease |= _config.ReadOnlyOption == ReadOnlyOption.LeaseBased && _tickCount < _config.ElectionTick;
                if (!m.Transfer && inLease)
                {
                    return;
                }
            }

            if (m.Type == MessageType.PreVote)
            {
                // Never change term on a pre-vote.
            }
            else if (m.Type == MessageType.PreVoteResp && !m.Reject)
            {
                // The term in a granted pre-vote response is the one we will campaign in.
            }
            else if (m.Type is MessageType.App or MessageType.Heartbeat or MessageType.Snap)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, 0);
            }
        }
        else if (m.Term < Term)
        {
            if ((_config.CheckQuorum || _config.PreVote) && m.Type is MessageType.App or MessageType.Heartbeat)
            {
                // A stale leader (e.g. after a partition): tell it our term so it steps down.
                Send(new Message { Type = MessageType.AppResp, To = m.From });
            }
            else if (m.Type is MessageType.PreVote or MessageType.Vote)
            {
                // Reject with our term (as the Raft paper's RequestVote reply does), so the candidate catches up.
                // Ignoring a stale vote request instead can livelock: two candidates that never message each other
                // directly (one is only a learner in the other's configuration) keep campaigning, each always a term
                // behind a peer that drops its requests (found by the simulator, seed 35).
                Send(new Message { Type = m.Type == MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp, To = m.From, Term = Term, Reject = true });
            }

            return;
        }

        switch (m.Type)
        {
            case MessageType.Vote:
            case MessageType.PreVote:
                HandleVoteRequest(m);
                return;
        }

        switch (Role)
        {
            case RaftRole.Leader:
                StepLeader(m);
                break;
            case RaftRole.Candidate:
            case RaftRole.PreCandidate:
                StepCandidate(m);
                break;
            default:
                StepFollower(m, sameTerm);
                break;
        }
    }

    /// <summary>The membership as of log position <paramref name="index"/> (for snapshots taken at that index).</summary>
    public ConfState ConfStateAt(long index) => _membership.At(index);

    public RaftStatus Status()
    {
        var followers = Role == RaftRole.Leader
            ? _tracker.ProgressMap.ToDictionary(p => p.Key, p => new FollowerStatus(p.Value.Match, p.Value.Next, p.Value.State, p.Value.IsLearner, p.Value.RecentActive))
            : new Dictionary<long, FollowerStatus>();
        return new RaftStatus(Id, Term, Vote, Leader, Role, _log.Committed, _log.Applied, _log.FirstIndex, _log.LastIndex, Conf, _leadTransferee, followers)
        {
            Quiesced = _quiesced,
        };
    }

    // ---------------------------------------------------------------- the rules (the tests' broken variants override them)

    /// <summary>Term of the entry at <paramref name="index"/> of this node's log, 0 if compacted or absent.</summary>
    private protected long TermAt(long index) => _log.TermOrZero(index);

    /// <summary>
    /// Whether this node may vote for the candidate of <paramref name="request"/> (before the up-to-date check): once
    /// per term, to the same candidate again, or when no leader is known; a pre-vote for a later term always.
    /// </summary>
    private protected virtual bool MayVoteFor(Message request) =>
        Vote == request.From
        || (Vote == 0 && Leader == 0)
        || (request.Type == MessageType.PreVote && request.Term > Term);

    /// <summary>
    /// Whether the entry at <paramref name="index"/>, which a quorum holds, may be committed by counting replicas:
    /// only one of the current term (Raft §5.4.2); older entries are committed through it.
    /// </summary>
    private protected virtual bool MayCommitByCount(long index) => TermAt(index) == Term;

    /// <summary>
    /// Whether <paramref name="m"/> must wait until the Ready it leaves in is durable: acknowledgements of appended
    /// entries (the entries must survive a crash) and everything about votes.
    /// </summary>
    private protected virtual bool MustWaitForPersistence(Message m) =>
        m.Type is MessageType.AppResp or MessageType.VoteResp or MessageType.PreVoteResp or MessageType.Vote or MessageType.PreVote;

    // ---------------------------------------------------------------- proposals

    /// <summary>Why a proposal cannot be taken now (not the leader, or handing leadership over); null if it can.</summary>
    private ProposeResult? RefuseProposal()
    {
        if (Role != RaftRole.Leader)
        {
            return ProposeResult.NotLeader(Leader);
        }

        if (_leadTransferee != 0)
        {
            return new ProposeResult(ProposeOutcome.TransferInProgress, 0, 0, Id, $"transferring leadership to {_leadTransferee}");
        }

        return null;
    }

    private ProposeResult AppendProposal(EntryType type, byte[] data)
    {
        _idleTicks = 0;
        var entry = new Entry(Term, _log.LastIndex + 1, type, data);
        AppendToLog(new List<Entry> { entry });
        _broadcastPending = true;
        return new ProposeResult(ProposeOutcome.Accepted, entry.Index, entry.Term, Id);
    }

    // ---------------------------------------------------------------- roles

    private void Reset(long term)
    {
        if (term != Term)
        {
            Term = term;
            Vote = 0;
        }

        Leader = 0;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTick + _random.Next(_config.ElectionTick);
        _leadTransferee = 0;
        _tracker.ResetVotes();
        _pendingConfIndex = 0;
        _broadcastPending = false;
        _readOnly.Reset();
        _tracker.ResetProgress(_log.LastIndex + 1, Id, _log.PersistedLastIndex, _tickCount);
        _quiesced = false;
        _idleTicks = 0;
    }

    private void BecomeFollower(long term, long leader)
    {
        Reset(term);
        Leader = leader;
        Role = RaftRole.Follower;
    }

    private void BecomePreCandidate()
    {
        // Pre-candidates keep term and vote: a failed pre-election disturbs nobody.
        _tracker.ResetVotes();
        Leader = 0;
        Role = RaftRole.PreCandidate;
    }

    private void BecomeCandidate()
    {
        Reset(Term + 1);
        Vote = Id;
        Role = RaftRole.Candidate;
    }

    private void BecomeLeader()
    {
        Reset(Term);
        Leader = Id;
        Role = RaftRole.Leader;

        // The empty entry commits everything before it (current-term rule) and must be committed before
        // any membership change or read is served.
        var noop = new Entry(Term, _log.LastIndex + 1, EntryType.Normal, Array.Empty<byte>());
        AppendToLog(new List<Entry> { noop });
        _pendingConfIndex = noop.Index;
        foreach (var pr in _tracker.ProgressMap.Values)
        {
            pr.Next = noop.Index;
        }

        if (_tracker.TryGetProgress(Id, out var self))
        {
            self.Next = noop.Index + 1;
        }

        BroadcastAppend();
    }

    // ---------------------------------------------------------------- ticks

    private void TickElection()
    {
        _electionElapsed++;
        if (IsPromotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            StartCampaign(_config.PreVote ? CampaignKind.PreElection : CampaignKind.Election);
        }
    }

    private void TickLeader()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTick)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                if (!_tracker.QuorumActive(Id))
                {
                    BecomeFollower(Term, 0);
                    return;
                }

                _tracker.ResetRecentActive(Id);
            }

            if (_leadTransferee != 0)
            {
                // The target did not catch up and take over within an election timeout: give up.
                _leadTransferee = 0;
            }
        }

        if (MaybeQuiesce())
        {
            return;
        }

        if (_heartbeatElapsed >= _config.HeartbeatTick)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat(StartReadRound());
        }
    }

    // ---------------------------------------------------------------- follower

    private void StepFollower(Message m, bool sameTerm)
    {
        switch (m.Type)
        {
            case MessageType.App:
                _electionElapsed = 0;
                Leader = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                Leader = m.From;
                if (!(m.Quiesce && sameTerm && TryQuiesceFollower(m)))
                {
                    HandleHeartbeat(m);
                }

                break;
            case MessageType.Snap:
                _electionElapsed = 0;
                Leader = m.From;
                HandleSnapshot(m);
                break;
            case MessageType.TimeoutNow:
                if (IsPromotable)
                {
                    StartCampaign(CampaignKind.Transfer);
                }

                break;
            case MessageType.ReadIndexResp:
                _readStates.Add(new ReadState(m.Index, m.Context));
                break;
        }
    }

    private void HandleAppend(Message m)
    {
        if (m.Index < _log.Committed)
        {
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = _log.Committed });
            return;
        }

        var lastNew = _log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries, TruncateConfHistory, out var appended);
        if (lastNew >= 0)
        {
            if (appended is { Count: > 0 })
            {
                foreach (var e in appended)
                {
                    TrackConfEntry(e);
                }
            }

            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = lastNew });
            return;
        }

        // Reject with a hint that lets the leader skip a whole term of mismatching entries.
        var hintIndex = Math.Min(m.Index, _log.LastIndex);
        var (index, term) = _log.FindConflictByTerm(hintIndex, m.LogTerm);
        Send(new Message
        {
            Type = MessageType.AppResp,
            To = m.From,
            Index = m.Index,
            Reject = true,
            RejectHint = index,
            LogTerm = term,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        _log.CommitTo(m.Commit);
        Send(new Message { Type = MessageType.HeartbeatResp, To = m.From, Context = m.Context });
    }

    private void HandleSnapshot(Message m)
    {
        var snap = m.Snapshot!;
        if (snap.Index <= _log.Committed)
        {
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = _log.Committed });
            return;
        }

        if (_log.MatchTerm(snap.Index, snap.Term))
        {
            // Our log already holds the snapshot's last entry: just move commit. Acknowledge only the
            // committed prefix; entries after it may differ from the leader's.
            _log.CommitTo(snap.Index);
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = _log.Committed });
            return;
        }

        _log.Restore(snap);
        _membership.Restore(snap.Metadata.ConfState);
        ApplyConf(_membership.Current);
        Send(new Message { Type = MessageType.AppResp, To = m.From, Index = _log.LastIndex });
    }

    // ---------------------------------------------------------------- log and membership

    private void AppendToLog(List<Entry> entries)
    {
        TruncateConfHistory(entries[0].Index);
        _log.TruncateAndAppend(entries);
        foreach (var e in entries)
        {
            TrackConfEntry(e);
        }
    }

    private void TrackConfEntry(Entry e)
    {
        if (_membership.Track(e))
        {
            ApplyConf(_membership.Current);
        }
    }

    private void TruncateConfHistory(long fromIndex)
    {
        if (_membership.TruncateFrom(fromIndex))
        {
            ApplyConf(_membership.Current);
        }
    }

    private void ApplyConf(ConfState conf)
    {
        foreach (var id in _tracker.ApplyConfig(conf, _log.LastIndex + 1, Id, _log.PersistedLastIndex, _tickCount))
        {
            // A member that joins (or leaves) starts its read-round acknowledgements over.
            _readOnly.Forget(id);
        }

        if (_leadTransferee != 0 && !conf.IsVoter(_leadTransferee))
        {
            _leadTransferee = 0;
        }

        if (Role == RaftRole.Leader)
        {
            // A smaller quorum may commit more; a new member needs the log.
            if (MaybeCommit())
            {
                BroadcastAppend();
            }
            else
            {
                _broadcastPending = true;
            }
        }
    }

    private void Send(Message m)
    {
        var term = m.Type is MessageType.Vote or MessageType.PreVote or MessageType.VoteResp or MessageType.PreVoteResp
            ? m.Term
            : Term;
        _messages.Add(m with { From = Id, Term = term });
    }
}
