namespace Storage.Persistence;

/// <summary>What became of one <see cref="ReplicaLogWrite"/>.</summary>
public enum WriteOutcome
{
    /// <summary>Durable: the transaction that applied it committed.</summary>
    Committed = 0,

    /// <summary>
    /// Not applied: the write's incarnation is not the replica's current one (a newer activation took
    /// over, or the replica was deleted or never acquired). The writer must stop acting as the replica.
    /// </summary>
    Fenced = 1,
}
