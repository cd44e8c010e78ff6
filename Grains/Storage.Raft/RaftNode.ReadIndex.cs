namespace Storage.Raft;

/// <summary>
/// The leader's linearizable reads: a read is released at the commit index once a heartbeat round that started
/// after it is acknowledged by a majority (or at once under a lease); <see cref="ReadOnly"/> keeps the books.
/// </summary>
public partial class RaftNode
{
    private void HandleReadIndex(long from, long context)
    {
        _idleTicks = 0;
        if (!CommittedInCurrentTerm())
        {
            // Until the leader commits in its term it does not know the true commit index.
            _readOnly.WaitForCommit(from, context);
            return;
        }

        if (TryLeaseRead(out var index))
        {
            ReleaseRead(from, context, index);
            return;
        }

        _readOnly.Add(from, context, _log.Committed);
    }

    /// <summary>Starts a heartbeat round; reads waiting without a round join it.</summary>
    private long StartReadRound()
    {
        var round = _readOnly.StartRound(_tickCount);
        if (_tracker.TryGetProgress(Id, out _))
        {
            _readOnly.RecordAck(Id, round);
        }

        AdvanceReadRounds();
        return round;
    }

    private void AdvanceReadRounds()
    {
        var confirmed = _tracker.Voters.CommittedIndex(_readOnly.AckedRound);
        if (!_readOnly.TryConfirm(confirmed, Term, out var released))
        {
            return;
        }

        foreach (var read in released)
        {
            ReleaseRead(read.From, read.Context, read.Index);
        }

        if (_readOnly.NeedsRound)
        {
            BroadcastHeartbeat(StartReadRound());
        }
    }

    private void ReleaseRead(long from, long context, long index)
    {
        if (from == Id)
        {
            _readStates.Add(new ReadState(index, context));
        }
        else
        {
            Send(new Message { Type = MessageType.ReadIndexResp, To = from, Index = index, Context = context });
        }
    }
}
