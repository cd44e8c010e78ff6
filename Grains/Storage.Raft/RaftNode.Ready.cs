namespace Storage.Raft;

/// <summary>The Ready/Advance loop: what the application must persist, send and apply, and its acknowledgement.</summary>
public partial class RaftNode
{
    private HardState _prevHardState;
    private HardState _persistedHardState;
    private SoftState _prevSoftState;
    private Ready? _outstanding;

    /// <summary>Whether <see cref="TakeReady"/> would return a batch.</summary>
    public bool HasReady
    {
        get
        {
            if (_outstanding is not null)
            {
                return false;
            }

            if (_broadcastPending || _readOnly.RoundRequested)
            {
                return true;
            }

            return _messages.Count > 0
                || _log.Unstable.Count > 0
                || _log.UnstableSnapshot is not null
                || _log.HasNextCommittedEntries
                || _readStates.Count > 0
                || !HardStateNow.Equals(_prevHardState)
                || !new SoftState(Leader, Role).Equals(_prevSoftState);
        }
    }

    /// <summary>The next batch of work, or null if there is none or the previous one was not advanced.</summary>
    public Ready? TakeReady()
    {
        if (_outstanding is not null)
        {
            return null;
        }

        if (_broadcastPending)
        {
            _broadcastPending = false;
            BroadcastAppend();
        }

        if (_readOnly.TakeRoundRequest())
        {
            // Reads requested during this turn share one heartbeat round.
            if (Role == RaftRole.Leader && _readOnly.NeedsRound)
            {
                BroadcastHeartbeat(StartReadRound());
            }
        }

        if (!HasReady)
        {
            return null;
        }

        var soft = new SoftState(Leader, Role);
        SoftState? softChanged = soft.Equals(_prevSoftState) ? null : soft;
        _prevSoftState = soft;

        var hs = HardStateNow;
        HardState? hardChanged = hs.Equals(_prevHardState) ? null : hs;
        _prevHardState = hs;

        var committed = _log.NextCommittedEntries(_config.MaxSizePerMsg * 4);
        if (committed.Count > 0)
        {
            _log.AcceptApplying(committed[^1].Index);
        }

        // If term or vote are not durable yet, nothing may leave before they are (a vote request sent
        // before the self-vote is durable could let this node vote twice in the term after a crash).
        var voteDurable = hs.Term == _persistedHardState.Term && hs.Vote == _persistedHardState.Vote;
        var early = new List<Message>();
        var late = new List<Message>();
        foreach (var m in _messages)
        {
            if (voteDurable && !MustWaitForPersistence(m))
            {
                early.Add(m);
            }
            else
            {
                late.Add(m);
            }
        }

        _messages = new List<Message>();
        var reads = _readStates;
        _readStates = new List<ReadState>();

        _outstanding = new Ready(
            softChanged,
            hardChanged,
            _log.Unstable.ToList(),
            _log.UnstableSnapshot,
            committed,
            early,
            late,
            reads,
            termOrVoteChanged: !voteDurable);
        return _outstanding;
    }

    /// <summary>Reports that everything in <paramref name="ready"/> was persisted and applied.</summary>
    public void Advance(Ready ready)
    {
        if (!ReferenceEquals(ready, _outstanding))
        {
            throw new InvalidOperationException("Advance must be called with the outstanding Ready");
        }

        _outstanding = null;
        if (ready.HardState is { } hs)
        {
            _persistedHardState = hs;
        }

        if (ready.Snapshot is { } snap)
        {
            _log.StableSnapTo(snap.Index);
            _log.AppliedTo(snap.Index);
        }

        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            _log.StableTo(last.Index, last.Term);
        }

        if (ready.CommittedEntries.Count > 0)
        {
            _log.AppliedTo(ready.CommittedEntries[^1].Index);
        }

        if (Role == RaftRole.Leader && _tracker.TryGetProgress(Id, out var self))
        {
            // The leader's own entries count toward the quorum only once durable.
            if (self.MaybeUpdate(_log.PersistedLastIndex) && MaybeCommit())
            {
                BroadcastAppend();
            }
        }
    }
}
