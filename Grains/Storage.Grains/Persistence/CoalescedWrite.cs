using Storage.Raft;

namespace Storage.Persistence;

/// <summary>
/// The net effect of consecutive writes of one (replica, incarnation) in a batch, as set operations:
/// delete stored entries with index &gt;= <see cref="TruncateFrom"/>, delete those &lt;= <see cref="CompactThrough"/>,
/// then insert <see cref="Entries"/> and store <see cref="HardState"/>.
/// </summary>
internal sealed class CoalescedWrite
{
    public CoalescedWrite(string replicaId, long incarnation)
    {
        ReplicaId = replicaId;
        Incarnation = incarnation;
    }

    public string ReplicaId { get; }

    public long Incarnation { get; }

    /// <summary>The lowest first index of any appended run; null when nothing was appended.</summary>
    public long? TruncateFrom { get; private set; }

    /// <summary>The highest compaction point; 0 for none.</summary>
    public long CompactThrough { get; private set; }

    public HardState? HardState { get; private set; }

    /// <summary>The entries that survive the batch, ascending and consecutive runs only.</summary>
    public List<Entry> Entries { get; } = new();

    /// <summary>
    /// Folds the next write in. This reproduces sequential application exactly: a stored entry survives
    /// iff it is below every appended run and above every compaction point (it is only ever removed), and
    /// an entry written in the batch survives iff no later run starts at or below it and no later (or same)
    /// compaction covers it — which is what <see cref="Entries"/> keeps. Surviving stored entries are all
    /// below <see cref="TruncateFrom"/> and every kept entry is at or above it, so the insert never conflicts.
    /// </summary>
    public void Apply(ReplicaLogWrite write)
    {
        if (write.Entries.Count > 0)
        {
            var first = write.Entries[0].Index;
            TruncateFrom = TruncateFrom is { } t ? Math.Min(t, first) : first;
            var cut = Entries.FindIndex(e => e.Index >= first);
            if (cut >= 0)
            {
                Entries.RemoveRange(cut, Entries.Count - cut);
            }

            Entries.AddRange(write.Entries);
        }

        if (write.HardState is { } hardState)
        {
            HardState = hardState;
        }

        if (write.CompactThrough > 0)
        {
            var keepFrom = Entries.FindIndex(e => e.Index > write.CompactThrough);
            Entries.RemoveRange(0, keepFrom < 0 ? Entries.Count : keepFrom);
            CompactThrough = Math.Max(CompactThrough, write.CompactThrough);
        }
    }

    /// <summary>
    /// Groups a batch by (replica, incarnation) in first-seen order, folding each group's writes in list order.
    /// Writes of one replica under different incarnations land in different groups: at most one of them
    /// matches the stored incarnation, so the others are fenced as a whole.
    /// </summary>
    public static List<CoalescedWrite> Coalesce(IReadOnlyList<ReplicaLogWrite> writes)
    {
        var groups = new List<CoalescedWrite>();
        var byKey = new Dictionary<(string, long), CoalescedWrite>();
        foreach (var write in writes)
        {
            if (!byKey.TryGetValue((write.ReplicaId, write.Incarnation), out var group))
            {
                group = new CoalescedWrite(write.ReplicaId, write.Incarnation);
                byKey.Add((write.ReplicaId, write.Incarnation), group);
                groups.Add(group);
            }

            group.Apply(write);
        }

        return groups;
    }
}
