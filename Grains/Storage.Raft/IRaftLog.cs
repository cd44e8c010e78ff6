namespace Storage.Raft;

/// <summary>
/// The persisted part of a node's log, as the node reads it. The application writes to it (after the
/// writes are durable); the node only reads. Entries below <see cref="FirstIndex"/> are compacted into
/// <see cref="Snapshot"/>.
/// </summary>
public interface IRaftLog
{
    HardState HardState { get; }

    /// <summary>The latest snapshot (index 0 with the initial membership for a new group).</summary>
    Snapshot Snapshot { get; }

    /// <summary>The first index still held as an entry: <c>Snapshot.Index + 1</c>.</summary>
    long FirstIndex { get; }

    long LastIndex { get; }

    /// <summary>Term of the entry at <paramref name="index"/>; false when compacted (below <c>FirstIndex - 1</c>) or beyond the end.</summary>
    bool TryGetTerm(long index, out long term);

    /// <summary>Entries in [<paramref name="low"/>, <paramref name="high"/>), at least one, at most about <paramref name="maxBytes"/>.</summary>
    IReadOnlyList<Entry> Entries(long low, long high, long maxBytes);
}
