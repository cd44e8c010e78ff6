namespace Storage.Raft;

/// <summary>
/// A leader's linearizable reads (etcd-raft's <c>readOnly</c>): ReadIndex requests waiting for the leader's first
/// commit in its term or for a heartbeat round, the rounds and each member's latest acknowledged round, and the
/// lease those rounds extend. It keeps the books; <see cref="RaftNode"/> decides (the majority comes from its
/// tracker) and sends.
/// </summary>
internal sealed class ReadOnly
{
    private readonly ReadOnlyOption _option;
    private readonly long _leaseTicks;

    // Reads waiting for the leader's first commit in its term, then for a heartbeat round.
    private readonly List<(long From, long Context)> _waitingForCommit = new();
    private readonly Queue<PendingRead> _pending = new();
    private readonly Queue<(long Round, long StartTick)> _roundStarts = new();
    private readonly Dictionary<long, long> _ackedRound = new();
    private long _currentRound;
    private long _confirmedRound;
    private long _leaseExpiryTick;
    private long _noLeaseTerm;

    /// <param name="option">Whether confirmed rounds extend a lease.</param>
    /// <param name="leaseTicks">How long a lease lasts from the start of the round that confirmed it.</param>
    public ReadOnly(ReadOnlyOption option, long leaseTicks)
    {
        _option = option;
        _leaseTicks = leaseTicks;
    }

    /// <summary>A read arrived while no round was in flight: start one at the end of this turn.</summary>
    public bool RoundRequested { get; private set; }

    /// <summary>Reads are waiting and no round is in flight to confirm them.</summary>
    public bool NeedsRound => _currentRound <= _confirmedRound && _pending.Count > 0;

    /// <summary>Forgets every read, round and the lease (on a change of term or role). The no-lease term is kept.</summary>
    public void Reset()
    {
        RoundRequested = false;
        _waitingForCommit.Clear();
        _pending.Clear();
        _roundStarts.Clear();
        _ackedRound.Clear();
        _currentRound = 0;
        _confirmedRound = 0;
        _leaseExpiryTick = 0;
    }

    /// <summary>Returns and clears <see cref="RoundRequested"/>.</summary>
    public bool TakeRoundRequest()
    {
        var requested = RoundRequested;
        RoundRequested = false;
        return requested;
    }

    public void WaitForCommit(long from, long context) => _waitingForCommit.Add((from, context));

    /// <summary>The reads that waited for the leader's first commit in its term, now to be handled; null if none.</summary>
    public List<(long From, long Context)>? TakeWaitingForCommit()
    {
        if (_waitingForCommit.Count == 0)
        {
            return null;
        }

        var waiting = _waitingForCommit.ToList();
        _waitingForCommit.Clear();
        return waiting;
    }

    /// <summary>Queues a read at <paramref name="index"/>; it joins the next round to start.</summary>
    public void Add(long from, long context, long index)
    {
        // The next round starts when the one in flight is confirmed, or at the end of this turn.
        _pending.Enqueue(new PendingRead(from, context, index, 0));
        if (_currentRound <= _confirmedRound)
        {
            RoundRequested = true;
        }
    }

    /// <summary>Starts a heartbeat round at <paramref name="tick"/>; reads waiting without a round join it.</summary>
    public long StartRound(long tick)
    {
        _currentRound++;
        _roundStarts.Enqueue((_currentRound, tick));
        if (_pending.Any(r => r.Round == 0))
        {
            var all = _pending.ToList();
            _pending.Clear();
            foreach (var r in all)
            {
                _pending.Enqueue(r.Round == 0 ? r with { Round = _currentRound } : r);
            }
        }

        return _currentRound;
    }

    /// <summary>The latest round <paramref name="id"/> acknowledged (0 if none in this term).</summary>
    public long AckedRound(long id) => _ackedRound.TryGetValue(id, out var round) ? round : 0;

    /// <summary>Records that <paramref name="id"/> acknowledged <paramref name="round"/>; true if that is news.</summary>
    public bool RecordAck(long id, long round)
    {
        if (round <= AckedRound(id))
        {
            return false;
        }

        _ackedRound[id] = round;
        return true;
    }

    /// <summary>A member joined or left: its acknowledgements start over.</summary>
    public void Forget(long id) => _ackedRound.Remove(id);

    /// <summary>
    /// A majority acknowledged every round up to <paramref name="round"/>. False if that is no news; otherwise
    /// extends the lease (unless leases are off in <paramref name="term"/>) and returns the reads those rounds
    /// confirm, in order.
    /// </summary>
    public bool TryConfirm(long round, long term, out IReadOnlyList<PendingRead> released)
    {
        released = Array.Empty<PendingRead>();
        if (round <= _confirmedRound)
        {
            return false;
        }

        _confirmedRound = round;
        while (_roundStarts.Count > 0 && _roundStarts.Peek().Round <= round)
        {
            var (_, startTick) = _roundStarts.Dequeue();
            if (_option == ReadOnlyOption.LeaseBased && _noLeaseTerm != term)
            {
                _leaseExpiryTick = Math.Max(_leaseExpiryTick, startTick + _leaseTicks);
            }
        }

        var confirmed = new List<PendingRead>();
        while (_pending.Count > 0 && _pending.Peek().Round != 0 && _pending.Peek().Round <= round)
        {
            confirmed.Add(_pending.Dequeue());
        }

        released = confirmed;
        return true;
    }

    /// <summary>Whether the lease (<see cref="ReadOnlyOption.LeaseBased"/>) is held at <paramref name="tick"/>.</summary>
    public bool HoldsLease(long tick) => _option == ReadOnlyOption.LeaseBased && tick < _leaseExpiryTick;

    /// <summary>Reads are waiting (for the leader's first commit, for a round, or for a round to be requested).</summary>
    public bool HasPendingReads => RoundRequested || _waitingForCommit.Count > 0 || _pending.Count > 0;

    /// <summary>
    /// The leader quiesces: it will not be ticked, so no start tick it recorded can measure a lease any more. Drops
    /// the lease and every round in flight (a late acknowledgement of such a round confirms nothing and extends no
    /// lease); the next read starts a new round. Acknowledged rounds are kept: they only ever grow.
    /// </summary>
    public void Quiesce()
    {
        _leaseExpiryTick = 0;
        _roundStarts.Clear();
        _confirmedRound = _currentRound;
    }

    /// <summary>Stops serving lease reads until a later round confirms a new lease.</summary>
    public void ExpireLease() => _leaseExpiryTick = 0;

    /// <summary>No lease in <paramref name="term"/> from now on (a successor may campaign past the followers' leases).</summary>
    public void ForbidLease(long term)
    {
        _noLeaseTerm = term;
        _leaseExpiryTick = 0;
    }

    /// <summary>A read waiting for its round (0: none started yet) to be confirmed.</summary>
    public readonly record struct PendingRead(long From, long Context, long Index, long Round);
}
