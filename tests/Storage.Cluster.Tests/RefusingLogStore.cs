using Storage.Persistence;

namespace Storage.Cluster.Tests;

/// <summary>
/// The silo's log store, except that while <see cref="Refusing"/> is set no replica can take an incarnation, so
/// every activation on the silo fails: a silo that is active and offered by placement but cannot host a replica.
/// </summary>
internal sealed class RefusingLogStore : IRaftLogStore
{
    private IRaftLogStore? _inner;
    private volatile bool _refusing = true;

    /// <summary>Wraps the silo's own store (once the silo's service provider built it).</summary>
    public void Attach(IRaftLogStore inner) => _inner = inner;

    private IRaftLogStore Inner => _inner ?? throw new InvalidOperationException("RefusingLogStore used before Attach");

    public bool Refusing
    {
        get => _refusing;
        set => _refusing = value;
    }

    public Task<long> AcquireIncarnationAsync(string replicaId, CancellationToken ct = default) =>
        _refusing ? throw new InvalidOperationException($"test: this silo refuses to activate {replicaId}") : Inner.AcquireIncarnationAsync(replicaId, ct);

    public Task<StoredReplicaLog> LoadAsync(string replicaId, long afterIndex, CancellationToken ct = default) => Inner.LoadAsync(replicaId, afterIndex, ct);

    public Task<IReadOnlyList<WriteOutcome>> WriteBatchAsync(IReadOnlyList<ReplicaLogWrite> writes, CancellationToken ct = default) => Inner.WriteBatchAsync(writes, ct);

    public Task DeleteReplicaAsync(string replicaId, CancellationToken ct = default) => Inner.DeleteReplicaAsync(replicaId, ct);
}
