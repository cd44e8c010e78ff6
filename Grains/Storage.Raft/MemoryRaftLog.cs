namespace Storage.Raft;

/// <summary>An in-memory <see cref="IRaftLog"/>: the simulator's durable storage and the replica grain's cache of PostgreSQL.</summary>
public sealed class MemoryRaftLog : IRaftLog
{
    private readonly List<Entry> _entries = new();

    public MemoryRaftLog(Snapshot snapshot, HardState hardState = default)
    {
        Snapshot = snapshot;
        HardState = hardState;
    }

    /// <summary>
    /// The log every founding member of a new group starts from: one AddVoter entry per voter at term 1,
    /// already committed. The membership lives in the log itself, so a replica added later learns the
    /// full history of the configuration from the log (or from a snapshot that carries it).
    /// </summary>
    public static MemoryRaftLog Bootstrap(IEnumerable<long> voters)
    {
        var log = new MemoryRaftLog(Snapshot.Initial(ConfState.Empty));
        var entries = BootstrapEntries(voters);
        log.Append(entries);
        log.SetHardState(new HardState(1, 0, entries.Count));
        return log;
    }

    /// <summary>The entries of <see cref="Bootstrap"/>, for stores that persist them elsewhere.</summary>
    public static IReadOnlyList<Entry> BootstrapEntries(IEnumerable<long> voters)
    {
        var index = 0L;
        return voters.Order()
            .Select(id => new Entry(1, ++index, EntryType.ConfChange, new ConfChange(ConfChangeType.AddVoter, id).Encode()))
            .ToList();
    }

    public HardState HardState { get; private set; }

    public Snapshot Snapshot { get; private set; }

    public long FirstIndex => Snapshot.Index + 1;

    public long LastIndex => Snapshot.Index + _entries.Count;

    public int Count => _entries.Count;

    public bool TryGetTerm(long index, out long term)
    {
        if (index == Snapshot.Index)
        {
            term = Snapshot.Term;
            return true;
        }

        if (index < Snapshot.Index || index > LastIndex)
        {
            term = 0;
            return false;
        }

        term = _entries[(int)(index - FirstIndex)].Term;
        return true;
    }

    public IReadOnlyList<Entry> Entries(long low, long high, long maxBytes)
    {
        if (low < FirstIndex || high > LastIndex + 1 || low > high)
        {
            throw new ArgumentOutOfRangeException(nameof(low), $"entries [{low},{high}) outside [{FirstIndex},{LastIndex + 1})");
        }

        var result = new List<Entry>((int)Math.Min(high - low, 64));
        long bytes = 0;
        for (var i = low; i < high; i++)
        {
            var entry = _entries[(int)(i - FirstIndex)];
            bytes += entry.Size;
            if (result.Count > 0 && bytes > maxBytes)
            {
                break;
            }

            result.Add(entry);
        }

        return result;
    }

    public void SetHardState(HardState hardState) => HardState = hardState;

    /// <summary>Appends entries, first dropping any held entry at or after the first new index (a log overwrite).</summary>
    public void Append(IReadOnlyList<Entry> newEntries)
    {
        if (newEntries.Count == 0)
        {
            return;
        }

        var first = newEntries[0].Index;
        if (first <= Snapshot.Index)
        {
            // Only entries above the snapshot matter; the rest are covered by it.
            var skip = (int)(Snapshot.Index + 1 - first);
            if (skip >= newEntries.Count)
            {
                return;
            }

            newEntries = newEntries.Skip(skip).ToList();
            first = newEntries[0].Index;
        }

        if (first > LastIndex + 1)
        {
            throw new InvalidOperationException($"append at {first} leaves a gap after {LastIndex}");
        }

        var keep = (int)(first - FirstIndex);
        if (keep < _entries.Count)
        {
            _entries.RemoveRange(keep, _entries.Count - keep);
        }

        _entries.AddRange(newEntries);
    }

    /// <summary>Replaces the whole log with a snapshot received from the leader.</summary>
    public void ApplySnapshot(Snapshot snapshot)
    {
        if (snapshot.Index <= Snapshot.Index)
        {
            return;
        }

        // The node drops its whole log when it restores a snapshot; storage mirrors that exactly.
        _entries.Clear();
        Snapshot = snapshot;
    }

    /// <summary>Takes a snapshot at <paramref name="index"/> (which must be applied) and drops the entries up to it.</summary>
    public Snapshot Compact(long index, ConfState conf, byte[] data)
    {
        if (index <= Snapshot.Index)
        {
            return Snapshot;
        }

        if (!TryGetTerm(index, out var term))
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"cannot compact at {index}: last index is {LastIndex}");
        }

        _entries.RemoveRange(0, (int)(index - Snapshot.Index));
        Snapshot = new Snapshot(new SnapshotMetadata(index, term, conf), data);
        return Snapshot;
    }

    /// <summary>All held entries, for persistence and tests.</summary>
    public IReadOnlyList<Entry> AllEntries => _entries;
}
