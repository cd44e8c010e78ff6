namespace Storage.Raft;

/// <summary>
/// A node's view of its log: the persisted part (<see cref="IRaftLog"/>) plus entries and a snapshot not
/// yet persisted ("unstable"), and the commit and apply positions. Same model as etcd-raft's raftLog.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftLog _storage;
    private List<Entry> _unstable = new();

    public RaftLog(IRaftLog storage)
    {
        _storage = storage;
        var last = storage.LastIndex;
        Offset = last + 1;
        Committed = Math.Max(storage.HardState.Commit, storage.Snapshot.Index);
        if (Committed > last)
        {
            throw new RaftSafetyException($"stored commit {Committed} is beyond the stored log end {last}");
        }

        Applied = storage.Snapshot.Index;
        Applying = Applied;
    }

    /// <summary>Index of <c>unstable[0]</c>; stored entries at or after it are obsolete.</summary>
    public long Offset { get; private set; }

    public Snapshot? UnstableSnapshot { get; private set; }

    public long Committed { get; private set; }

    /// <summary>Highest index handed to the application for applying.</summary>
    public long Applying { get; private set; }

    /// <summary>Highest index the application reported applied.</summary>
    public long Applied { get; private set; }

    public IReadOnlyList<Entry> Unstable => _unstable;

    public long FirstIndex => UnstableSnapshot is { } s ? s.Index + 1 : _storage.FirstIndex;

    public long LastIndex => _unstable.Count > 0
        ? Offset + _unstable.Count - 1
        : UnstableSnapshot is { } s ? s.Index : _storage.LastIndex;

    /// <summary>The last index that is durable and still part of this log.</summary>
    public long PersistedLastIndex => UnstableSnapshot is not null
        ? 0
        : Math.Min(_storage.LastIndex, Offset - 1);

    public long LastTerm => TryTerm(LastIndex, out var t) ? t : throw new RaftSafetyException($"no term at last index {LastIndex}");

    public Snapshot Snapshot => UnstableSnapshot ?? _storage.Snapshot;

    public void InitApplied(long applied)
    {
        if (applied > Committed)
        {
            throw new ArgumentException($"applied {applied} is beyond commit {Committed}");
        }

        Applied = Math.Max(Applied, applied);
        Applying = Applied;
    }

    public bool TryTerm(long index, out long term)
    {
        term = 0;
        if (index > LastIndex)
        {
            return false;
        }

        if (UnstableSnapshot is { } snap)
        {
            if (index == snap.Index)
            {
                term = snap.Term;
                return true;
            }

            if (index < snap.Index)
            {
                return false;
            }
        }

        if (index >= Offset)
        {
            term = _unstable[(int)(index - Offset)].Term;
            return true;
        }

        return _storage.TryGetTerm(index, out term);
    }

    public long TermOrZero(long index) => TryTerm(index, out var t) ? t : 0;

    public bool MatchTerm(long index, long term) => TryTerm(index, out var t) && t == term;

    public bool IsUpToDate(long lastIndex, long term) =>
        term > LastTerm || (term == LastTerm && lastIndex >= LastIndex);

    /// <summary>Entries in [low, high) limited by bytes; null when low is compacted.</summary>
    public IReadOnlyList<Entry>? Entries(long low, long high, long maxBytes)
    {
        if (low < FirstIndex)
        {
            return null;
        }

        high = Math.Min(high, LastIndex + 1);
        if (low >= high)
        {
            return Array.Empty<Entry>();
        }

        var result = new List<Entry>();
        long bytes = 0;
        if (low < Offset)
        {
            var stored = _storage.Entries(low, Math.Min(high, Offset), maxBytes);
            foreach (var e in stored)
            {
                bytes += e.Size;
            }

            result.AddRange(stored);
            if (result.Count < Math.Min(high, Offset) - low)
            {
                return result; // size limit reached
            }
        }

        for (var i = Math.Max(low, Offset); i < high; i++)
        {
            var e = _unstable[(int)(i - Offset)];
            bytes += e.Size;
            if (result.Count > 0 && bytes > maxBytes)
            {
                break;
            }

            result.Add(e);
        }

        return result;
    }

    /// <summary>
    /// Appends entries that follow (prevIndex, prevTerm) if the log matches there; returns the index of the
    /// last new entry, or -1 on mismatch. Never overwrites a committed entry.
    /// </summary>
    public long MaybeAppend(long prevIndex, long prevTerm, long leaderCommit, IReadOnlyList<Entry> entries, Action<long> beforeTruncate, out List<Entry>? appended)
    {
        appended = null;
        if (!MatchTerm(prevIndex, prevTerm))
        {
            return -1;
        }

        var lastNew = prevIndex + entries.Count;
        var conflictAt = FindConflict(entries);
        if (conflictAt != 0)
        {
            if (conflictAt <= Committed)
            {
                throw new RaftSafetyException($"entry {conflictAt} conflicts with committed entry (commit {Committed})");
            }

            var from = (int)(conflictAt - entries[0].Index);
            beforeTruncate(conflictAt);
            appended = entries.Skip(from).ToList();
            TruncateAndAppend(appended);
        }

        CommitTo(Math.Min(leaderCommit, lastNew));
        return lastNew;
    }

    /// <summary>Index of the first entry that is not in the log with the same term, 0 if all are.</summary>
    private long FindConflict(IReadOnlyList<Entry> entries)
    {
        foreach (var e in entries)
        {
            if (!MatchTerm(e.Index, e.Term))
            {
                return e.Index;
            }
        }

        return 0;
    }

    /// <summary>The largest index at or below <paramref name="index"/> whose term is at most <paramref name="term"/>.</summary>
    public (long Index, long Term) FindConflictByTerm(long index, long term)
    {
        for (; index > 0; index--)
        {
            if (!TryTerm(index, out var t))
            {
                return (index, 0);
            }

            if (t <= term)
            {
                return (index, t);
            }
        }

        return (0, 0);
    }

    public void Append(Entry entry) => TruncateAndAppend(new List<Entry> { entry });

    public void TruncateAndAppend(List<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var after = entries[0].Index;
        if (after <= Committed)
        {
            throw new RaftSafetyException($"append at {after} would overwrite committed entries (commit {Committed})");
        }

        if (after == Offset + _unstable.Count)
        {
            _unstable.AddRange(entries);
        }
        else if (after <= Offset)
        {
            Offset = after;
            _unstable = entries;
        }
        else
        {
            var kept = _unstable.GetRange(0, (int)(after - Offset));
            kept.AddRange(entries);
            _unstable = kept;
        }
    }

    public void CommitTo(long index)
    {
        if (index <= Committed)
        {
            return;
        }

        if (index > LastIndex)
        {
            throw new RaftSafetyException($"commit {index} is beyond the last index {LastIndex}; was the log lost?");
        }

        Committed = index;
    }

    /// <summary>Replaces the log with a snapshot (not yet persisted).</summary>
    public void Restore(Snapshot snapshot)
    {
        Committed = snapshot.Index;
        _unstable = new List<Entry>();
        Offset = snapshot.Index + 1;
        UnstableSnapshot = snapshot;
    }

    /// <summary>Committed entries not yet handed out for applying (none while a snapshot awaits persistence).</summary>
    public IReadOnlyList<Entry> NextCommittedEntries(long maxBytes)
    {
        if (UnstableSnapshot is not null || Applying >= Committed)
        {
            return Array.Empty<Entry>();
        }

        return Entries(Applying + 1, Committed + 1, maxBytes)
            ?? throw new RaftSafetyException($"committed entries from {Applying + 1} are compacted");
    }

    public bool HasNextCommittedEntries => UnstableSnapshot is null && Applying < Committed;

    public void AcceptApplying(long index) => Applying = Math.Max(Applying, index);

    public void AppliedTo(long index)
    {
        Applied = Math.Max(Applied, index);
        Applying = Math.Max(Applying, Applied);
    }

    /// <summary>Entries up to (index, term) are durable: drop them from the unstable part if still the same.</summary>
    public void StableTo(long index, long term)
    {
        if (index < Offset || index >= Offset + _unstable.Count || _unstable[(int)(index - Offset)].Term != term)
        {
            return;
        }

        var drop = (int)(index - Offset + 1);
        _unstable = _unstable.GetRange(drop, _unstable.Count - drop);
        Offset = index + 1;
    }

    public void StableSnapTo(long index)
    {
        if (UnstableSnapshot is { } s && s.Index == index)
        {
            UnstableSnapshot = null;
        }
    }
}
