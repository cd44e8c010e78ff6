using Storage.Raft;

namespace Storage.Persistence;

/// <summary>
/// One replica's durable changes from one Raft <c>Ready</c>: applied as if in this order — append
/// <see cref="Entries"/> (first deleting every stored entry at or above <c>Entries[0].Index</c>, the Raft
/// log overwrite), store <see cref="HardState"/>, then delete entries at or below
/// <see cref="CompactThrough"/>.
/// </summary>
/// <param name="ReplicaId">The replica, e.g. "s17/r2".</param>
/// <param name="Incarnation">The fencing token from <see cref="IRaftLogStore.AcquireIncarnationAsync"/>.</param>
/// <param name="HardState">The hard state to store, or null to leave it.</param>
/// <param name="Entries">Consecutive entries in ascending index order; may be empty.</param>
/// <param name="CompactThrough">0 for none; otherwise delete entries with index &lt;= this (after a checkpoint).</param>
public sealed record ReplicaLogWrite(
    string ReplicaId,
    long Incarnation,
    HardState? HardState,
    IReadOnlyList<Entry> Entries,
    long CompactThrough = 0)
{
    /// <summary>Approximate bytes this write sends, for batching limits and metrics.</summary>
    public long ByteSize
    {
        get
        {
            long size = ReplicaId.Length + (HardState is null ? 0 : 24);
            foreach (var entry in Entries)
            {
                size += entry.Size;
            }

            return size;
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the write breaks the shape the store relies on.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(ReplicaId))
        {
            throw new ArgumentException("ReplicaId is required.", nameof(ReplicaId));
        }

        if (Incarnation <= 0)
        {
            throw new ArgumentException($"Write for {ReplicaId}: incarnation must be positive (got {Incarnation}); acquire one first.", nameof(Incarnation));
        }

        if (CompactThrough < 0)
        {
            throw new ArgumentException($"Write for {ReplicaId}: CompactThrough must be >= 0 (got {CompactThrough}).", nameof(CompactThrough));
        }

        if (Entries is null)
        {
            throw new ArgumentException($"Write for {ReplicaId}: Entries must not be null (use an empty list).", nameof(Entries));
        }

        for (var i = 0; i < Entries.Count; i++)
        {
            var entry = Entries[i] ?? throw new ArgumentException($"Write for {ReplicaId}: entry {i} is null.", nameof(Entries));
            if (entry.Data is null)
            {
                throw new ArgumentException($"Write for {ReplicaId}: entry {entry.Index} has null Data.", nameof(Entries));
            }

            if (i == 0 ? entry.Index < 1 : entry.Index != Entries[i - 1].Index + 1)
            {
                // The overwrite rule (delete from Entries[0].Index up) is only right for a contiguous run.
                throw new ArgumentException($"Write for {ReplicaId}: entries must be consecutive from index >= 1 (entry {i} has index {entry.Index}).", nameof(Entries));
            }
        }
    }
}
