namespace Storage.Raft;

/// <summary>
/// The membership as a function of the log. Changes take effect when appended (Raft thesis §4.1), so the
/// configuration is the snapshot's plus every change entry after it, committed or not: a restart or a
/// truncation recomputes it with no extra state.
/// </summary>
internal sealed class MembershipHistory
{
    private readonly List<(long Index, ConfState Conf)> _changes = new();
    private ConfState _base;

    public MembershipHistory(ConfState snapshotConf)
    {
        _base = snapshotConf;
    }

    /// <summary>The membership in force: the latest change in the log, committed or not.</summary>
    public ConfState Current => _changes.Count > 0 ? _changes[^1].Conf : _base;

    /// <summary>Index of the latest change entry, 0 if the log holds none.</summary>
    public long LastChangeIndex => _changes.Count > 0 ? _changes[^1].Index : 0;

    /// <summary>The membership as of log position <paramref name="index"/>.</summary>
    public ConfState At(long index)
    {
        for (var i = _changes.Count - 1; i >= 0; i--)
        {
            if (_changes[i].Index <= index)
            {
                return _changes[i].Conf;
            }
        }

        return _base;
    }

    /// <summary>Records <paramref name="entry"/> if it is a membership change; true if it is.</summary>
    public bool Track(Entry entry)
    {
        if (entry.Type != EntryType.ConfChange)
        {
            return false;
        }

        var change = ConfChange.Decode(entry.Data);
        var current = Current;
        _changes.Add((entry.Index, change.ApplyTo(current, out _) ?? current));
        return true;
    }

    /// <summary>Forgets the changes at or after <paramref name="fromIndex"/> (the log is truncated there); true if any.</summary>
    public bool TruncateFrom(long fromIndex) => _changes.RemoveAll(c => c.Index >= fromIndex) > 0;

    /// <summary>Starts over from a snapshot's membership.</summary>
    public void Restore(ConfState snapshotConf)
    {
        _changes.Clear();
        _base = snapshotConf;
    }
}
