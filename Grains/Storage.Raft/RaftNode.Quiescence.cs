namespace Storage.Raft;

/// <summary>
/// Quiescence (off unless <see cref="RaftConfig.QuiesceAfterTicks"/> is set): an idle group stops heartbeating and
/// stops counting election ticks, so its host can stop ticking it (CockroachDB's quiesced ranges, TiKV's hibernate
/// regions).
/// </summary>
/// <remarks>
/// <para>
/// The leader quiesces after <see cref="RaftConfig.QuiesceAfterTicks"/> consecutive idle ticks: nothing to commit,
/// apply or persist (applied = committed = last, durable), no read, membership change or transfer pending, a quorum
/// of voters heard from within an election timeout, and every member heard from within an election timeout holding
/// the whole log. A member silent for an election timeout (dead, partitioned, lagging) does not keep the group
/// awake; if it comes back it is not quiesced, so it campaigns when its election timer runs out, and its vote
/// requests wake the leader, whose heartbeats then bring it back (or, if it can win, it becomes the new leader).
/// </para>
/// <para>
/// The leader then sends every member one heartbeat flagged <see cref="Message.Quiesce"/> carrying its last index and
/// term and stops heartbeating. A follower of the same term whose log ends at exactly that entry quiesces and does
/// not answer; any other answers as to a heartbeat, with context 0, which wakes the leader (so a follower that cannot
/// quiesce keeps its group awake until it can, by being appended to or by an election).
/// </para>
/// <para>
/// A quiesced node wakes on any input other than a <see cref="Message.Quiesce"/> heartbeat and a late
/// acknowledgement of a heartbeat round sent before it quiesced (news-free; waking on it would make a leader wake
/// right after every quiescence): any other message, <see cref="Propose"/>, <see cref="ProposeConfChange"/>,
/// <see cref="ReadIndex"/>, <see cref="TransferLeadership"/>, <see cref="Campaign"/> and <see cref="Wake"/>. A
/// leader that wakes heartbeats at once. A follower that wakes for any reason but a message from its leader sends
/// its leader a heartbeat acknowledgement with context 0 (which wakes the leader, whose heartbeats wake the group)
/// and counts election ticks again from where it stopped: if the leader is alive it hears from it at once; if not,
/// its election timer runs out and it campaigns. It does not campaign at once (that would depose a healthy leader
/// for every stray request that reaches a follower), and it cannot propose an empty entry as CockroachDB's followers
/// do, because proposals are not forwarded in this core.
/// </para>
/// </remarks>
public partial class RaftNode
{
    private bool _quiesced;
    private int _idleTicks;

    /// <summary>
    /// Whether the node is quiesced: <see cref="Tick"/> does nothing, so the host may stop ticking it until it wakes
    /// (any input but a quiesce heartbeat may wake it; check again after each). Always false with quiescence off.
    /// </summary>
    public bool IsQuiesced => _quiesced;

    /// <summary>
    /// Wakes a quiesced node (no-op otherwise), as if it had local work. The host must call this on every quiesced
    /// replica it hosts that follows a replica (<see cref="Leader"/>) the host learns is gone (its silo died, or it
    /// was deactivated or removed): nobody else would wake them, and a quiesced group with a dead leader elects a new
    /// one only once a follower is awake and ticking. Proposals, reads, membership changes and transfers wake a
    /// node by themselves.
    /// </summary>
    public void Wake()
    {
        if (_quiesced)
        {
            WakeUp(cause: 0);
        }
    }

    /// <summary>
    /// Whether a quiesced leader may keep serving lease reads from the lease it held when it quiesced. Never in the
    /// shipped core: the lease is counted in this node's ticks and a quiesced node is not ticked, so the lease would
    /// never run out while a majority, woken by something else, may elect another leader and commit. The lease and
    /// the rounds in flight are dropped instead, and the first read after waking goes through a heartbeat round
    /// (which also starts a new lease), a cost paid once per wake.
    /// </summary>
    private protected virtual bool MayKeepLeaseWhenQuiescing() => false;

    /// <summary>Messages that leave a quiesced node quiesced (see the remarks on this class).</summary>
    private bool KeepsQuiesced(Message m) =>
        (m.Type == MessageType.Heartbeat && m.Quiesce)
        || (m.Type == MessageType.HeartbeatResp && m.Context != 0 && m.Term == Term);

    /// <summary>Counts an idle leader tick and quiesces after enough of them; true if the node quiesced.</summary>
    private bool MaybeQuiesce()
    {
        if (_config.QuiesceAfterTicks == 0)
        {
            return false;
        }

        if (!IsIdleLeader())
        {
            _idleTicks = 0;
            return false;
        }

        if (++_idleTicks < _config.QuiesceAfterTicks)
        {
            return false;
        }

        _quiesced = true;
        _idleTicks = 0;
        if (!MayKeepLeaseWhenQuiescing())
        {
            _readOnly.Quiesce();
        }

        foreach (var (id, pr) in _tracker.ProgressMap)
        {
            if (id == Id)
            {
                continue;
            }

            // Sent to silent members too: one that is back and cannot quiesce answers, which wakes this leader.
            Send(new Message
            {
                Type = MessageType.Heartbeat,
                To = id,
                Commit = Math.Min(pr.Match, _log.Committed),
                Index = _log.LastIndex,
                LogTerm = _log.LastTerm,
                Quiesce = true,
            });
        }

        return true;
    }

    private bool IsIdleLeader()
    {
        var last = _log.LastIndex;
        if (_leadTransferee != 0 || _broadcastPending || _readOnly.HasPendingReads
            || _log.Committed != last || _log.Applied != last || _log.PersistedLastIndex != last
            || _pendingConfIndex > _log.Committed || !CommittedInCurrentTerm())
        {
            return false;
        }

        // Heard from within the last election timeout.
        var since = _tickCount - _config.ElectionTick + 1;
        if (!_tracker.QuorumHeardSince(Id, since))
        {
            return false;
        }

        foreach (var (id, pr) in _tracker.ProgressMap)
        {
            if (id != Id && pr.LastHeardTick >= since && pr.Match != last)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A follower handles a quiesce heartbeat of its term; false if its log does not end at the leader's last entry.</summary>
    private bool TryQuiesceFollower(Message m)
    {
        if (_config.QuiesceAfterTicks == 0 || _log.LastIndex != m.Index || TermAt(m.Index) != m.LogTerm)
        {
            return false;
        }

        _log.CommitTo(m.Commit);
        _quiesced = true;
        return true;
    }

    /// <param name="cause">The node whose message woke this one; 0 for local work.</param>
    private void WakeUp(long cause)
    {
        _quiesced = false;
        _idleTicks = 0;
        if (Role == RaftRole.Leader)
        {
            _electionElapsed = 0;
            _heartbeatElapsed = 0;
            if (_config.CheckQuorum)
            {
                // Whether a quorum is still there is judged on what is heard after waking, not before quiescing.
                _tracker.ResetRecentActive(Id);
            }

            BroadcastHeartbeat(StartReadRound());
        }
        else if (Leader != 0 && cause != Leader)
        {
            Send(new Message { Type = MessageType.HeartbeatResp, To = Leader });
        }
    }
}
