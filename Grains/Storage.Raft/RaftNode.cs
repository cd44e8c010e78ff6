namespace Storage.Raft;

/// <summary>
/// One member of a Raft group as a deterministic state machine (modelled on etcd-raft). Inputs:
/// <see cref="Step"/>, <see cref="Tick"/>, <see cref="Propose"/>, <see cref="ReadIndex"/>,
/// <see cref="ProposeConfChange"/>, <see cref="TransferLeadership"/>. Output: <see cref="Ready"/> batches,
/// acknowledged with <see cref="Advance"/>. No I/O, clock or threads: time is ticks, randomness is the
/// <see cref="Random"/> passed in. Not thread-safe; drive it from one thread (or one grain turn) at a time.
/// </summary>
/// <remarks>
/// Membership changes one node at a time and take effect when the change is appended (Raft thesis §4.1),
/// so the configuration is a function of the log: a restart or truncation recomputes it with no
/// extra state. A new change is refused until the previous one is committed and the leader has committed
/// an entry of its own term. A leader's own log counts toward commit only once it is durable (at
/// <see cref="Advance"/>); followers acknowledge only durable entries (<see cref="Ready.PersistedMessages"/>).
/// </remarks>
public sealed class RaftNode
{
    private readonly RaftConfig config;
    private readonly IRaftLog storage;
    private readonly Random random;
    private readonly RaftLog log;
    private readonly SortedDictionary<long, Progress> progress = new();
    private readonly Dictionary<long, bool> votes = new();
    private readonly List<(long Index, ConfState Conf)> confHistory = new();
    private List<Message> messages = new();
    private List<ReadState> readStates = new();

    // Reads waiting for the leader's first commit in its term, then for a heartbeat round.
    private readonly List<(long From, long Context)> readsBeforeCommit = new();
    private readonly Queue<PendingRead> pendingReads = new();
    private readonly Queue<(long Round, long StartTick)> roundStarts = new();
    private long currentRound;
    private long confirmedRound;
    private long leaseExpiryTick;
    private long noLeaseTerm;

    private ConfState baseConf;
    private int randomizedElectionTimeout;
    private int electionElapsed;
    private int heartbeatElapsed;
    private long tickCount;
    private long leadTransferee;
    private long pendingConfIndex;
    private bool broadcastPending;
    private bool readRoundPending;
    private HardState prevHardState;
    private HardState persistedHardState;
    private SoftState prevSoftState;
    private Ready? outstanding;

    public RaftNode(RaftConfig config, IRaftLog storage, Random random)
    {
        config.Validate();
        this.config = config;
        this.storage = storage;
        this.random = random;
        log = new RaftLog(storage);
        log.InitApplied(Math.Max(config.Applied, storage.Snapshot.Index));

        baseConf = storage.Snapshot.Metadata.ConfState;
        ApplyConf(baseConf);
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
        prevHardState = HardStateNow;
        persistedHardState = prevHardState;
        prevSoftState = new SoftState(0, RaftRole.Follower);
    }

    public long Id => config.Id;

    public long Term { get; private set; }

    public long Vote { get; private set; }

    public long Leader { get; private set; }

    public RaftRole Role { get; private set; }

    public long CommitIndex => log.Committed;

    public long AppliedIndex => log.Applied;

    public long LastIndex => log.LastIndex;

    public long FirstIndex => log.FirstIndex;

    /// <summary>The membership in force (the latest change in the log, committed or not).</summary>
    public ConfState Conf { get; private set; } = ConfState.Empty;

    /// <summary>Ticks seen by this node; the leader's lease is measured in them.</summary>
    public long TickCount => tickCount;

    /// <summary>Whether this node could become leader (it is a voter in its current membership).</summary>
    public bool IsPromotable => Conf.IsVoter(Id);

    /// <summary>For simulator checks: called with every batch of entries appended to this node's log.</summary>
    internal Action<RaftNode, IReadOnlyList<Entry>>? OnAppend { get; set; }

    /// <summary>Term at an index of this node's log, 0 if compacted or absent (for checks in tests).</summary>
    internal long TermAtForTests(long index) => log.TermOrZero(index);

    private HardState HardStateNow => new(Term, Vote, log.Committed);

    private int Quorum => Conf.Voters.Count / 2 + 1;

    // ---------------------------------------------------------------- inputs

    public void Tick()
    {
        tickCount++;
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
        if (Role != RaftRole.Leader && IsPromotable)
        {
            StartCampaign(config.PreVote ? CampaignKind.PreElection : CampaignKind.Election);
        }
    }

    public ProposeResult Propose(byte[] data)
    {
        if (Role != RaftRole.Leader)
        {
            return ProposeResult.NotLeader(Leader);
        }

        if (leadTransferee != 0)
        {
            return new ProposeResult(ProposeOutcome.TransferInProgress, 0, 0, Id, $"transferring leadership to {leadTransferee}");
        }

        var entry = new Entry(Term, log.LastIndex + 1, EntryType.Normal, data);
        AppendToLog(new List<Entry> { entry });
        broadcastPending = true;
        return new ProposeResult(ProposeOutcome.Accepted, entry.Index, entry.Term, Id);
    }

    public ProposeResult ProposeConfChange(ConfChange change)
    {
        if (Role != RaftRole.Leader)
        {
            return ProposeResult.NotLeader(Leader);
        }

        if (leadTransferee != 0)
        {
            return new ProposeResult(ProposeOutcome.TransferInProgress, 0, 0, Id, $"transferring leadership to {leadTransferee}");
        }

        if (pendingConfIndex > log.Committed)
        {
            return new ProposeResult(ProposeOutcome.ConfChangeRejected, 0, 0, Id,
                $"a membership change (or this leader's first entry) at {pendingConfIndex} is not committed yet");
        }

        if (change.ApplyTo(Conf, out var reason) is null)
        {
            return new ProposeResult(ProposeOutcome.ConfChangeRejected, 0, 0, Id, reason);
        }

        var entry = new Entry(Term, log.LastIndex + 1, EntryType.ConfChange, change.Encode());
        AppendToLog(new List<Entry> { entry });
        pendingConfIndex = entry.Index;
        broadcastPending = true;
        return new ProposeResult(ProposeOutcome.Accepted, entry.Index, entry.Term, Id);
    }

    /// <summary>
    /// Requests a linearizable read point. A <see cref="ReadState"/> with this context appears in a later
    /// Ready; serve the read once applied reaches its index. False when no leader is known (retry later).
    /// Contexts must be unique among this node's outstanding reads.
    /// </summary>
    public bool ReadIndex(long context)
    {
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
    /// later. False: use <see cref="ReadIndex"/>.
    /// </summary>
    public bool TryLeaseRead(out long index)
    {
        index = 0;
        if (Role != RaftRole.Leader || !CommittedInCurrentTerm())
        {
            return false;
        }

        if ((Conf.Voters.Count == 1 && Conf.IsVoter(Id))
            || (config.ReadOnlyOption == ReadOnlyOption.LeaseBased && tickCount < leaseExpiryTick))
        {
            index = log.Committed;
            return true;
        }

        return false;
    }

    /// <summary>Hands leadership to <paramref name="target"/>; aborted if it is not done within an election timeout.</summary>
    public bool TransferLeadership(long target)
    {
        if (Role != RaftRole.Leader || target == Id || !Conf.IsVoter(target))
        {
            return false;
        }

        if (leadTransferee == target)
        {
            return true;
        }

        // The old leader must stop serving lease reads: the target may win before the lease runs out.
        leaseExpiryTick = 0;
        electionElapsed = 0;
        leadTransferee = target;
        var pr = progress[target];
        if (pr.Match == log.LastIndex)
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
        if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                // Leader stickiness: a follower that heard from a leader within the election timeout
                // ignores campaigns (this is what makes CheckQuorum and leases sound).
                var inLease = config.CheckQuorum && Leader != 0 && electionElapsed < config.ElectionTick;

                // With leases, a restarted node must not vote before an election timeout: it may have
                // acknowledged a heartbeat that extended the current leader's lease just before it crashed.
                inLease |= config.ReadOnlyOption == ReadOnlyOption.LeaseBased && tickCount < config.ElectionTick;
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
            if ((config.CheckQuorum || config.PreVote) && m.Type is MessageType.App or MessageType.Heartbeat)
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
                StepFollower(m);
                break;
        }
    }

    // ---------------------------------------------------------------- ready / advance

    /// <summary>Whether <see cref="TakeReady"/> would return a batch.</summary>
    public bool HasReady
    {
        get
        {
            if (outstanding is not null)
            {
                return false;
            }

            if (broadcastPending || readRoundPending)
            {
                return true;
            }

            return messages.Count > 0
                || log.Unstable.Count > 0
                || log.UnstableSnapshot is not null
                || log.HasNextCommittedEntries
                || readStates.Count > 0
                || !HardStateNow.Equals(prevHardState)
                || !new SoftState(Leader, Role).Equals(prevSoftState);
        }
    }

    /// <summary>The next batch of work, or null if there is none or the previous one was not advanced.</summary>
    public Ready? TakeReady()
    {
        if (outstanding is not null)
        {
            return null;
        }

        if (broadcastPending)
        {
            broadcastPending = false;
            BroadcastAppend();
        }

        if (readRoundPending)
        {
            // Reads requested during this turn share one heartbeat round.
            readRoundPending = false;
            if (Role == RaftRole.Leader && currentRound <= confirmedRound && pendingReads.Count > 0)
            {
                BroadcastHeartbeat(StartReadRound());
            }
        }

        if (!HasReady)
        {
            return null;
        }

        var soft = new SoftState(Leader, Role);
        SoftState? softChanged = soft.Equals(prevSoftState) ? null : soft;
        prevSoftState = soft;

        var hs = HardStateNow;
        HardState? hardChanged = hs.Equals(prevHardState) ? null : hs;
        prevHardState = hs;

        var committed = log.NextCommittedEntries(config.MaxSizePerMsg * 4);
        if (committed.Count > 0)
        {
            log.AcceptApplying(committed[^1].Index);
        }

        // If term or vote are not durable yet, nothing may leave before they are (a vote request sent
        // before the self-vote is durable could let this node vote twice in the term after a crash).
        var voteDurable = hs.Term == persistedHardState.Term && hs.Vote == persistedHardState.Vote;
        var early = new List<Message>();
        var late = new List<Message>();
        foreach (var m in messages)
        {
            if (voteDurable && !NeedsDurability(m))
            {
                early.Add(m);
            }
            else
            {
                late.Add(m);
            }
        }

        messages = new List<Message>();
        var reads = readStates;
        readStates = new List<ReadState>();

        outstanding = new Ready(
            softChanged,
            hardChanged,
            log.Unstable.ToList(),
            log.UnstableSnapshot,
            committed,
            early,
            late,
            reads,
            termOrVoteChanged: !voteDurable);
        return outstanding;
    }

    private bool NeedsDurability(Message m) => m.Type switch
    {
        MessageType.AppResp => (config.Faults & RaftFaults.AckBeforePersist) == 0,
        MessageType.VoteResp or MessageType.PreVoteResp or MessageType.Vote or MessageType.PreVote => true,
        _ => false,
    };

    /// <summary>Reports that everything in <paramref name="ready"/> was persisted and applied.</summary>
    public void Advance(Ready ready)
    {
        if (!ReferenceEquals(ready, outstanding))
        {
            throw new InvalidOperationException("Advance must be called with the outstanding Ready");
        }

        outstanding = null;
        if (ready.HardState is { } hs)
        {
            persistedHardState = hs;
        }

        if (ready.Snapshot is { } snap)
        {
            log.StableSnapTo(snap.Index);
            log.AppliedTo(snap.Index);
        }

        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            log.StableTo(last.Index, last.Term);
        }

        if (ready.CommittedEntries.Count > 0)
        {
            log.AppliedTo(ready.CommittedEntries[^1].Index);
        }

        if (Role == RaftRole.Leader && progress.TryGetValue(Id, out var self))
        {
            // The leader's own entries count toward the quorum only once durable.
            if (self.MaybeUpdate(log.PersistedLastIndex) && MaybeCommit())
            {
                BroadcastAppend();
            }
        }
    }

    /// <summary>The membership as of log position <paramref name="index"/> (for snapshots taken at that index).</summary>
    public ConfState ConfStateAt(long index)
    {
        for (var i = confHistory.Count - 1; i >= 0; i--)
        {
            if (confHistory[i].Index <= index)
            {
                return confHistory[i].Conf;
            }
        }

        return baseConf;
    }

    public RaftStatus Status()
    {
        var followers = Role == RaftRole.Leader
            ? progress.ToDictionary(p => p.Key, p => new FollowerStatus(p.Value.Match, p.Value.Next, p.Value.State, p.Value.IsLearner, p.Value.RecentActive))
            : new Dictionary<long, FollowerStatus>();
        return new RaftStatus(Id, Term, Vote, Leader, Role, log.Committed, log.Applied, log.FirstIndex, log.LastIndex, Conf, leadTransferee, followers);
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
        electionElapsed = 0;
        heartbeatElapsed = 0;
        randomizedElectionTimeout = config.ElectionTick + random.Next(config.ElectionTick);
        leadTransferee = 0;
        votes.Clear();
        pendingConfIndex = 0;
        broadcastPending = false;
        readRoundPending = false;
        readsBeforeCommit.Clear();
        pendingReads.Clear();
        roundStarts.Clear();
        currentRound = 0;
        confirmedRound = 0;
        leaseExpiryTick = 0;
        ResetProgress();
    }

    private void ResetProgress()
    {
        progress.Clear();
        foreach (var id in Conf.Members)
        {
            var pr = new Progress(log.LastIndex + 1, config.MaxInflightMsgs, Conf.IsLearner(id));
            if (id == Id)
            {
                pr.Match = log.PersistedLastIndex;
            }

            progress[id] = pr;
        }
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
        votes.Clear();
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
        var noop = new Entry(Term, log.LastIndex + 1, EntryType.Normal, Array.Empty<byte>());
        AppendToLog(new List<Entry> { noop });
        pendingConfIndex = noop.Index;
        foreach (var pr in progress.Values)
        {
            pr.Next = noop.Index;
        }

        if (progress.TryGetValue(Id, out var self))
        {
            self.Next = noop.Index + 1;
        }

        BroadcastAppend();
    }

    private enum CampaignKind
    {
        PreElection,
        Election,
        Transfer,
    }

    private void StartCampaign(CampaignKind kind)
    {
        long term;
        MessageType type;
        if (kind == CampaignKind.PreElection)
        {
            BecomePreCandidate();
            type = MessageType.PreVote;
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            type = MessageType.Vote;
            term = Term;
        }

        if (Poll(Id, granted: true) == VoteOutcome.Won)
        {
            if (kind == CampaignKind.PreElection)
            {
                StartCampaign(CampaignKind.Election);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        foreach (var id in Conf.Voters)
        {
            if (id == Id)
            {
                continue;
            }

            Send(new Message
            {
                Type = type,
                To = id,
                Term = term,
                Index = log.LastIndex,
                LogTerm = log.LastTerm,
                Transfer = kind == CampaignKind.Transfer,
            });
        }
    }

    private enum VoteOutcome
    {
        Pending,
        Won,
        Lost,
    }

    private VoteOutcome Poll(long id, bool granted)
    {
        if (Conf.IsVoter(id))
        {
            votes.TryAdd(id, granted);
        }

        var yes = votes.Count(v => v.Value && Conf.IsVoter(v.Key));
        var no = votes.Count(v => !v.Value && Conf.IsVoter(v.Key));
        if (yes >= Quorum)
        {
            return VoteOutcome.Won;
        }

        return no > Conf.Voters.Count - Quorum ? VoteOutcome.Lost : VoteOutcome.Pending;
    }

    // ---------------------------------------------------------------- ticks

    private void TickElection()
    {
        electionElapsed++;
        if (IsPromotable && electionElapsed >= randomizedElectionTimeout)
        {
            electionElapsed = 0;
            StartCampaign(config.PreVote ? CampaignKind.PreElection : CampaignKind.Election);
        }
    }

    private void TickLeader()
    {
        heartbeatElapsed++;
        electionElapsed++;
        if (electionElapsed >= config.ElectionTick)
        {
            electionElapsed = 0;
            if (config.CheckQuorum)
            {
                if (!QuorumActive())
                {
                    BecomeFollower(Term, 0);
                    return;
                }

                foreach (var (id, pr) in progress)
                {
                    if (id != Id)
                    {
                        pr.RecentActive = false;
                    }
                }
            }

            if (leadTransferee != 0)
            {
                // The target did not catch up and take over within an election timeout: give up.
                leadTransferee = 0;
            }
        }

        if (heartbeatElapsed >= config.HeartbeatTick)
        {
            heartbeatElapsed = 0;
            BroadcastHeartbeat(StartReadRound());
        }
    }

    private bool QuorumActive()
    {
        var active = 0;
        foreach (var id in Conf.Voters)
        {
            if (id == Id || (progress.TryGetValue(id, out var pr) && pr.RecentActive))
            {
                active++;
            }
        }

        return active >= Quorum;
    }

    // ---------------------------------------------------------------- votes

    private void HandleVoteRequest(Message m)
    {
        var pre = m.Type == MessageType.PreVote;
        var canVote = Vote == m.From
            || (Vote == 0 && Leader == 0)
            || (pre && m.Term > Term)
            || (config.Faults & RaftFaults.DoubleVote) != 0;
        var respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
        if (canVote && log.IsUpToDate(m.Index, m.LogTerm))
        {
            // A granted response carries the candidate's term so it is counted in that election.
            Send(new Message { Type = respType, To = m.From, Term = m.Term });
            if (!pre)
            {
                electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = respType, To = m.From, Term = Term, Reject = true });
        }
    }

    private void StepCandidate(Message m)
    {
        var myResp = Role == RaftRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
        switch (m.Type)
        {
            case MessageType.App:
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snap:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                break;
            case MessageType.PreVoteResp:
            case MessageType.VoteResp:
                if (m.Type != myResp)
                {
                    return;
                }

                switch (Poll(m.From, !m.Reject))
                {
                    case VoteOutcome.Won:
                        if (Role == RaftRole.PreCandidate)
                        {
                            StartCampaign(CampaignKind.Election);
                        }
                        else
                        {
                            BecomeLeader();
                        }

                        break;
                    case VoteOutcome.Lost:
                        BecomeFollower(Term, 0);
                        break;
                }

                break;
        }
    }

    // ---------------------------------------------------------------- follower

    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.App:
                electionElapsed = 0;
                Leader = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                electionElapsed = 0;
                Leader = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snap:
                electionElapsed = 0;
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
                readStates.Add(new ReadState(m.Index, m.Context));
                break;
        }
    }

    private void HandleAppend(Message m)
    {
        if (m.Index < log.Committed)
        {
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = log.Committed });
            return;
        }

        var lastNew = log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries, TruncateConfHistory, out var appended);
        if (lastNew >= 0)
        {
            if (appended is { Count: > 0 })
            {
                foreach (var e in appended)
                {
                    TrackConfEntry(e);
                }

                OnAppend?.Invoke(this, appended);
            }

            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = lastNew });
            return;
        }

        // Reject with a hint that lets the leader skip a whole term of mismatching entries.
        var hintIndex = Math.Min(m.Index, log.LastIndex);
        var (index, term) = log.FindConflictByTerm(hintIndex, m.LogTerm);
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
        log.CommitTo(m.Commit);
        Send(new Message { Type = MessageType.HeartbeatResp, To = m.From, Context = m.Context });
    }

    private void HandleSnapshot(Message m)
    {
        var snap = m.Snapshot!;
        if (snap.Index <= log.Committed)
        {
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = log.Committed });
            return;
        }

        if (log.MatchTerm(snap.Index, snap.Term))
        {
            // Our log already holds the snapshot's last entry: just move commit. Acknowledge only the
            // committed prefix; entries after it may differ from the leader's.
            log.CommitTo(snap.Index);
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = log.Committed });
            return;
        }

        log.Restore(snap);
        confHistory.Clear();
        baseConf = snap.Metadata.ConfState;
        ApplyConf(baseConf);
        Send(new Message { Type = MessageType.AppResp, To = m.From, Index = log.LastIndex });
    }

    // ---------------------------------------------------------------- leader

    private void StepLeader(Message m)
    {
        if (!progress.TryGetValue(m.From, out var pr))
        {
            return;
        }

        switch (m.Type)
        {
            case MessageType.AppResp:
                pr.RecentActive = true;
                HandleAppendResponse(m, pr);
                break;
            case MessageType.HeartbeatResp:
                pr.RecentActive = true;
                HandleHeartbeatResponse(m, pr);
                break;
            case MessageType.ReadIndex:
                HandleReadIndex(m.From, m.Context);
                break;
        }
    }

    private void HandleAppendResponse(Message m, Progress pr)
    {
        if (m.Reject)
        {
            var nextProbe = m.RejectHint;
            if (m.LogTerm > 0)
            {
                nextProbe = log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            }

            if (pr.MaybeDecrTo(m.Index, nextProbe))
            {
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe();
                }

                SendAppend(m.From);
            }

            return;
        }

        var wasPaused = pr.IsPaused;
        if (!pr.MaybeUpdate(m.Index))
        {
            return;
        }

        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match + 1 >= log.FirstIndex:
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                break;
        }

        if (MaybeCommit())
        {
            BroadcastAppend();
        }
        else if (wasPaused)
        {
            SendAppend(m.From);
        }

        while (Role == RaftRole.Leader && MaybeSendAppend(m.From, sendIfEmpty: false))
        {
        }

        if (Role == RaftRole.Leader && m.From == leadTransferee && pr.Match == log.LastIndex)
        {
            SendTimeoutNow(m.From);
        }
    }

    private void HandleHeartbeatResponse(Message m, Progress pr)
    {
        pr.ProbeSent = false;
        if (pr.State == ProgressState.Replicate && pr.Inflights.Full)
        {
            pr.Inflights.FreeFirstOne();
        }

        if (pr.State == ProgressState.Snapshot && tickCount - pr.SnapshotSentTick >= config.ElectionTick)
        {
            // The snapshot (or its answer) was probably lost: probe again, which resends it if still needed.
            pr.BecomeProbe();
        }

        if (pr.Match < log.LastIndex)
        {
            SendAppend(m.From);
        }

        if (m.Context > pr.AckedRound)
        {
            pr.AckedRound = m.Context;
            AdvanceReadRounds();
        }
    }

    private bool MaybeCommit()
    {
        if (Conf.Voters.Count == 0)
        {
            return false;
        }

        var matches = new List<long>(Conf.Voters.Count);
        foreach (var id in Conf.Voters)
        {
            matches.Add(progress.TryGetValue(id, out var pr) ? pr.Match : 0);
        }

        matches.Sort();
        var quorumIndex = matches[matches.Count - Quorum];
        if (quorumIndex <= log.Committed)
        {
            return false;
        }

        // Only an entry of the current term is committed by counting replicas (Raft §5.4.2).
        var oldTermAllowed = (config.Faults & RaftFaults.CommitOldTermByCount) != 0;
        if (!oldTermAllowed && log.TermOrZero(quorumIndex) != Term)
        {
            return false;
        }

        log.CommitTo(quorumIndex);
        OnLeaderCommitted();
        return true;
    }

    private void OnLeaderCommitted()
    {
        if (readsBeforeCommit.Count > 0 && CommittedInCurrentTerm())
        {
            var waiting = readsBeforeCommit.ToList();
            readsBeforeCommit.Clear();
            foreach (var (from, ctx) in waiting)
            {
                HandleReadIndex(from, ctx);
            }
        }

        // A leader removed from the membership steps down once its removal is committed.
        if (!Conf.IsVoter(Id) && confHistory.Count > 0 && log.Committed >= confHistory[^1].Index)
        {
            BroadcastAppend();
            var successor = progress
                .Where(p => p.Key != Id && Conf.IsVoter(p.Key) && p.Value.Match == log.LastIndex)
                .Select(p => p.Key)
                .FirstOrDefault();
            if (successor != 0)
            {
                SendTimeoutNow(successor);
            }

            BecomeFollower(Term, 0);
        }
    }

    private bool CommittedInCurrentTerm() => log.TermOrZero(log.Committed) == Term;

    private void SendTimeoutNow(long to)
    {
        // The target campaigns past every follower's lease, and the message may arrive after the transfer was given
        // up: no lease in this term from now on.
        noLeaseTerm = Term;
        leaseExpiryTick = 0;
        Send(new Message { Type = MessageType.TimeoutNow, To = to });
    }

    private void BroadcastAppend()
    {
        if (Role != RaftRole.Leader)
        {
            return;
        }

        foreach (var id in progress.Keys.ToList())
        {
            if (id != Id)
            {
                SendAppend(id);
            }
        }
    }

    private void SendAppend(long to) => MaybeSendAppend(to, sendIfEmpty: true);

    private bool MaybeSendAppend(long to, bool sendIfEmpty)
    {
        if (!progress.TryGetValue(to, out var pr) || pr.IsPaused)
        {
            return false;
        }

        var prevIndex = pr.Next - 1;
        IReadOnlyList<Entry>? entries = null;
        var haveTerm = log.TryTerm(prevIndex, out var prevTerm);
        if (haveTerm)
        {
            entries = log.Entries(pr.Next, log.LastIndex + 1, config.MaxSizePerMsg);
        }

        if (!haveTerm || entries is null)
        {
            // The follower needs entries we compacted: send the snapshot instead.
            if (!pr.RecentActive)
            {
                return false;
            }

            var snap = log.Snapshot;
            pr.BecomeSnapshot(snap.Index, tickCount);
            Send(new Message { Type = MessageType.Snap, To = to, Snapshot = snap });
            return true;
        }

        if (entries.Count == 0 && !sendIfEmpty)
        {
            return false;
        }

        Send(new Message
        {
            Type = MessageType.App,
            To = to,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries,
            Commit = log.Committed,
        });
        pr.SentEntries(entries.Count, entries.Count > 0 ? entries[^1].Index : prevIndex);
        return true;
    }

    private void BroadcastHeartbeat(long round)
    {
        foreach (var (id, pr) in progress)
        {
            if (id == Id)
            {
                continue;
            }

            Send(new Message
            {
                Type = MessageType.Heartbeat,
                To = id,
                Commit = Math.Min(pr.Match, log.Committed),
                Context = round,
            });
        }
    }

    // ---------------------------------------------------------------- reads

    private readonly record struct PendingRead(long From, long Context, long Index, long Round);

    private void HandleReadIndex(long from, long context)
    {
        if (!CommittedInCurrentTerm())
        {
            // Until the leader commits in its term it does not know the true commit index.
            readsBeforeCommit.Add((from, context));
            return;
        }

        if (TryLeaseRead(out var index))
        {
            ReleaseRead(from, context, index);
            return;
        }

        // Joins the next round to start: when the one in flight is confirmed, or at the end of this turn.
        pendingReads.Enqueue(new PendingRead(from, context, log.Committed, 0));
        if (currentRound <= confirmedRound)
        {
            readRoundPending = true;
        }
    }

    /// <summary>Starts a heartbeat round; reads waiting without a round join it.</summary>
    private long StartReadRound()
    {
        currentRound++;
        roundStarts.Enqueue((currentRound, tickCount));
        if (pendingReads.Any(r => r.Round == 0))
        {
            var all = pendingReads.ToList();
            pendingReads.Clear();
            foreach (var r in all)
            {
                pendingReads.Enqueue(r.Round == 0 ? r with { Round = currentRound } : r);
            }
        }

        if (progress.TryGetValue(Id, out var self))
        {
            self.AckedRound = currentRound;
        }

        AdvanceReadRounds();
        return currentRound;
    }

    private void AdvanceReadRounds()
    {
        if (Conf.Voters.Count == 0)
        {
            return;
        }

        var acked = new List<long>(Conf.Voters.Count);
        foreach (var id in Conf.Voters)
        {
            acked.Add(progress.TryGetValue(id, out var pr) ? pr.AckedRound : 0);
        }

        acked.Sort();
        var confirmed = acked[acked.Count - Quorum];
        if (confirmed <= confirmedRound)
        {
            return;
        }

        confirmedRound = confirmed;
        while (roundStarts.Count > 0 && roundStarts.Peek().Round <= confirmed)
        {
            var (_, startTick) = roundStarts.Dequeue();
            if (config.ReadOnlyOption == ReadOnlyOption.LeaseBased && noLeaseTerm != Term)
            {
                leaseExpiryTick = Math.Max(leaseExpiryTick, startTick + config.ElectionTick - config.MaxClockDriftTicks);
            }
        }

        while (pendingReads.Count > 0 && pendingReads.Peek().Round != 0 && pendingReads.Peek().Round <= confirmed)
        {
            var r = pendingReads.Dequeue();
            ReleaseRead(r.From, r.Context, r.Index);
        }

        if (pendingReads.Count > 0 && currentRound <= confirmedRound)
        {
            BroadcastHeartbeat(StartReadRound());
        }
    }

    private void ReleaseRead(long from, long context, long index)
    {
        if (from == Id)
        {
            readStates.Add(new ReadState(index, context));
        }
        else
        {
            Send(new Message { Type = MessageType.ReadIndexResp, To = from, Index = index, Context = context });
        }
    }

    // ---------------------------------------------------------------- log and membership

    private void AppendToLog(List<Entry> entries)
    {
        TruncateConfHistory(entries[0].Index);
        log.TruncateAndAppend(entries);
        foreach (var e in entries)
        {
            TrackConfEntry(e);
        }

        OnAppend?.Invoke(this, entries);
    }

    private void TrackConfEntry(Entry e)
    {
        if (e.Type != EntryType.ConfChange)
        {
            return;
        }

        var change = ConfChange.Decode(e.Data);
        var next = change.ApplyTo(Conf, out _) ?? Conf;
        confHistory.Add((e.Index, next));
        ApplyConf(next);
    }

    private void TruncateConfHistory(long fromIndex)
    {
        var removed = confHistory.RemoveAll(c => c.Index >= fromIndex);
        if (removed > 0)
        {
            ApplyConf(confHistory.Count > 0 ? confHistory[^1].Conf : baseConf);
        }
    }

    private void ApplyConf(ConfState conf)
    {
        Conf = conf;
        foreach (var id in progress.Keys.ToList())
        {
            if (!conf.IsMember(id))
            {
                progress.Remove(id);
            }
        }

        foreach (var id in conf.Members)
        {
            if (progress.TryGetValue(id, out var pr))
            {
                pr.IsLearner = conf.IsLearner(id);
            }
            else
            {
                progress[id] = new Progress(log.LastIndex + 1, config.MaxInflightMsgs, conf.IsLearner(id))
                {
                    Match = id == Id ? log.PersistedLastIndex : 0,
                };
            }
        }

        if (leadTransferee != 0 && !conf.IsVoter(leadTransferee))
        {
            leadTransferee = 0;
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
                broadcastPending = true;
            }
        }
    }

    private void Send(Message m)
    {
        var term = m.Type is MessageType.Vote or MessageType.PreVote or MessageType.VoteResp or MessageType.PreVoteResp
            ? m.Term
            : Term;
        messages.Add(m with { From = Id, Term = term });
    }
}
