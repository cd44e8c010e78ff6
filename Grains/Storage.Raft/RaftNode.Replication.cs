using Storage.Raft.Tracker;

namespace Storage.Raft;

/// <summary>The leader's side of log replication: appends, heartbeats, their answers, and commit.</summary>
public partial class RaftNode
{
    private void StepLeader(Message m)
    {
        if (!_tracker.TryGetProgress(m.From, out var pr))
        {
            return;
        }

        switch (m.Type)
        {
            case MessageType.AppResp:
                pr.RecentActive = true;
                pr.LastHeardTick = _tickCount;
                HandleAppendResponse(m, pr);
                break;
            case MessageType.HeartbeatResp:
                pr.RecentActive = true;
                pr.LastHeardTick = _tickCount;
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
                nextProbe = _log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
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
            case ProgressState.Snapshot when pr.Match + 1 >= _log.FirstIndex:
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

        if (Role == RaftRole.Leader && m.From == _leadTransferee && pr.Match == _log.LastIndex)
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

        if (pr.State == ProgressState.Snapshot && _tickCount - pr.SnapshotSentTick >= _config.ElectionTick)
        {
            // The snapshot (or its answer) was probably lost: probe again, which resends it if still needed.
            pr.BecomeProbe();
        }

        if (pr.Match < _log.LastIndex)
        {
            SendAppend(m.From);
        }

        if (_readOnly.RecordAck(m.From, m.Context))
        {
            AdvanceReadRounds();
        }
    }

    private bool MaybeCommit()
    {
        var quorumIndex = _tracker.Committed();
        if (quorumIndex <= _log.Committed || !MayCommitByCount(quorumIndex))
        {
            return false;
        }

        _log.CommitTo(quorumIndex);
        OnLeaderCommitted();
        return true;
    }

    private void OnLeaderCommitted()
    {
        if (CommittedInCurrentTerm() && _readOnly.TakeWaitingForCommit() is { } waiting)
        {
            foreach (var (from, context) in waiting)
            {
                HandleReadIndex(from, context);
            }
        }

        // A leader removed from the membership steps down once its removal is committed.
        if (!Conf.IsVoter(Id) && _membership.LastChangeIndex > 0 && _log.Committed >= _membership.LastChangeIndex)
        {
            BroadcastAppend();
            var successor = _tracker.ProgressMap
                .Where(p => p.Key != Id && Conf.IsVoter(p.Key) && p.Value.Match == _log.LastIndex)
                .Select(p => p.Key)
                .FirstOrDefault();
            if (successor != 0)
            {
                SendTimeoutNow(successor);
            }

            BecomeFollower(Term, 0);
        }
    }

    private bool CommittedInCurrentTerm() => TermAt(_log.Committed) == Term;

    private void SendTimeoutNow(long to)
    {
        // The target campaigns past every follower's lease, and the message may arrive after the transfer was given
        // up: no lease in this term from now on.
        _readOnly.ForbidLease(Term);
        Send(new Message { Type = MessageType.TimeoutNow, To = to });
    }

    private void BroadcastAppend()
    {
        if (Role != RaftRole.Leader)
        {
            return;
        }

        foreach (var id in _tracker.ProgressMap.Keys.ToList())
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
        if (!_tracker.TryGetProgress(to, out var pr) || pr.IsPaused)
        {
            return false;
        }

        var prevIndex = pr.Next - 1;
        IReadOnlyList<Entry>? entries = null;
        var haveTerm = _log.TryTerm(prevIndex, out var prevTerm);
        if (haveTerm)
        {
            entries = _log.Entries(pr.Next, _log.LastIndex + 1, _config.MaxSizePerMsg);
        }

        if (!haveTerm || entries is null)
        {
            // The follower needs entries we compacted: send the snapshot instead.
            if (!pr.RecentActive)
            {
                return false;
            }

            var snap = _log.Snapshot;
            pr.BecomeSnapshot(snap.Index, _tickCount);
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
            Commit = _log.Committed,
        });
        pr.SentEntries(entries.Count, entries.Count > 0 ? entries[^1].Index : prevIndex);
        return true;
    }

    private void BroadcastHeartbeat(long round)
    {
        foreach (var (id, pr) in _tracker.ProgressMap)
        {
            if (id == Id)
            {
                continue;
            }

            Send(new Message
            {
                Type = MessageType.Heartbeat,
                To = id,
                Commit = Math.Min(pr.Match, _log.Committed),
                Context = round,
            });
        }
    }
}
