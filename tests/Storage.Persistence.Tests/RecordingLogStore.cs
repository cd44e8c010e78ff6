namespace Storage.Persistence.Tests;

/// <summary>
/// Decorates a store to count and record the batches it receives, and to let a test hold or fail a batch
/// before it reaches the real store.
/// </summary>
internal sealed class RecordingLogStore : IRaftLogStore
{
    private readonly IRaftLogStore _inner;
    private readonly object _gate = new();
    private readonly List<IReadOnlyList<ReplicaLogWrite>> _batches = new();

    public RecordingLogStore(IRaftLogStore inner)
    {
        _inner = inner;
    }

    /// <summary>Runs before batch number N (1-based) is forwarded; may wait or throw.</summary>
    public Func<int, IReadOnlyList<ReplicaLogWrite>, CancellationToken, Task>? BeforeBatch { get; set; }

    public IReadOnlyList<IReadOnlyList<ReplicaLogWrite>> Batches
    {
        get
        {
            lock (_gate)
            {
                return _batches.ToList();
            }
        }
    }

    public int BatchCount
    {
        get
        {
            lock (_gate)
            {
                return _batches.Count;
            }
        }
    }

    public Task<long> AcquireIncarnationAsync(string replicaId, CancellationToken ct = default) => _inner.AcquireIncarnationAsync(replicaId, ct);

    public Task<StoredReplicaLog> LoadAsync(string replicaId, long afterIndex, CancellationToken ct = default) => _inner.LoadAsync(replicaId, afterIndex, ct);

    public Task DeleteReplicaAsync(string replicaId, CancellationToken ct = default) => _inner.DeleteReplicaAsync(replicaId, ct);

    public async Task<IReadOnlyList<WriteOutcome>> WriteBatchAsync(IReadOnlyList<ReplicaLogWrite> writes, CancellationToken ct = default)
    {
        int number;
        lock (_gate)
        {
            _batches.Add(writes.ToArray());
            number = _batches.Count;
        }

        if (BeforeBatch is { } hook)
        {
            await hook(number, writes, ct);
        }

        return await _inner.WriteBatchAsync(writes, ct);
    }
}
