namespace Storage.Bench;

/// <summary>
/// One system under test, as the <see cref="BenchRunner"/> loop sees it: connect, preload, read, write, dispose.
/// Implementations must be safe to call from many workers at once. A failed operation throws; the runner counts
/// it as an error and goes on.
/// </summary>
public interface IBenchDriver : IAsyncDisposable
{
    /// <summary>The driver's name in results (<c>store</c>, <c>etcd</c>, <c>postgres</c>, <c>orleans</c>).</summary>
    string Name { get; }

    /// <summary>What reads mean on this driver at the requested consistency, e.g. "linearizable (ReadIndex)"; shown in results.</summary>
    string ReadSemantics { get; }

    /// <summary>Connects and creates what the driver needs (a table, a database); called once before anything else.</summary>
    Task PrepareAsync(CancellationToken ct);

    /// <summary>Reads one key; a missing key is not an error.</summary>
    ValueTask ReadAsync(string key, CancellationToken ct);

    /// <summary>Writes one key durably (returns once the system acknowledged it).</summary>
    ValueTask WriteAsync(string key, byte[] value, CancellationToken ct);
}
