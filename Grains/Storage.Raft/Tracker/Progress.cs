namespace Storage.Raft.Tracker;

/// <summary>The leader's view of one follower (etcd-raft's Progress).</summary>
internal sealed class Progress
{
    public Progress(long next, int maxInflight, bool isLearner)
    {
        Next = next;
        Inflights = new Inflights(maxInflight);
        IsLearner = isLearner;
        RecentActive = true;
    }

    public long Match { get; set; }

    public long Next { get; set; }

    public ProgressState State { get; private set; }

    /// <summary>In Probe: an append was sent and not yet answered.</summary>
    public bool ProbeSent { get; set; }

    public long PendingSnapshot { get; private set; }

    /// <summary>The leader tick at which the pending snapshot was sent (for resending a lost one).</summary>
    public long SnapshotSentTick { get; set; }

    public Inflights Inflights { get; }

    public bool RecentActive { get; set; }

    /// <summary>
    /// The leader's tick count when it last heard from this member (or when it started tracking it). Unlike
    /// <see cref="RecentActive"/> it does not depend on CheckQuorum; quiescence uses it to leave out members that
    /// have been silent for an election timeout.
    /// </summary>
    public long LastHeardTick { get; set; }

    public bool IsLearner { get; set; }

    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    public void BecomeProbe()
    {
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            ResetState(ProgressState.Probe);
            Next = Math.Max(Match + 1, pending + 1);
        }
        else
        {
            ResetState(ProgressState.Probe);
            Next = Match + 1;
        }
    }

    public void BecomeReplicate()
    {
        ResetState(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(long snapshotIndex, long tick)
    {
        ResetState(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
        SnapshotSentTick = tick;
    }

    /// <summary>Records an acknowledgement of everything up to <paramref name="index"/>; true if Match moved.</summary>
    public bool MaybeUpdate(long index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }

        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>Handles a rejection of the append after <paramref name="rejected"/>; false if the rejection is stale.</summary>
    public bool MaybeDecrTo(long rejected, long matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match)
            {
                return false;
            }

            Next = Match + 1;
            return true;
        }

        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    /// <summary>Updates flow control after sending <paramref name="count"/> entries ending at <paramref name="lastIndex"/>.</summary>
    public void SentEntries(int count, long lastIndex)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (count > 0)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex);
                }

                break;
            case ProgressState.Probe:
                ProbeSent = true;
                break;
        }
    }

    private void ResetState(ProgressState state)
    {
        ProbeSent = false;
        PendingSnapshot = 0;
        State = state;
        Inflights.Reset();
    }

    public override string ToString() => $"{State} match={Match} next={Next}" + (IsLearner ? " learner" : "");
}
