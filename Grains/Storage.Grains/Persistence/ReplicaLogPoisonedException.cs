namespace Storage.Persistence;

/// <summary>
/// The write was refused without being attempted because an earlier write of the same replica incarnation
/// failed. Committing it would leave a hole (or an unknown prefix) in the durable log, so after a failure the
/// <see cref="LogWriter"/> accepts no more writes for that incarnation: the replica must reload from the
/// store under a new incarnation. <see cref="Exception.InnerException"/> is the original failure.
/// </summary>
public sealed class ReplicaLogPoisonedException : Exception
{
    public ReplicaLogPoisonedException(string replicaId, long incarnation, Exception? firstFailure)
        : base($"Write refused: an earlier write of replica {replicaId} (incarnation {incarnation}) failed, so its durable log is unknown; "
               + "reload the replica under a new incarnation.", firstFailure)
    {
        ReplicaId = replicaId;
        Incarnation = incarnation;
    }

    public string ReplicaId { get; }

    public long Incarnation { get; }
}
