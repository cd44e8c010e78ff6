namespace Storage.Persistence;

/// <summary>Limits of the silo-wide <see cref="LogWriter"/>.</summary>
public sealed class LogWriterOptions
{
    /// <summary>At most this many writes go into one transaction; more wait for the next one.</summary>
    public int MaxWritesPerBatch { get; set; } = 512;

    /// <summary>
    /// A batch stops growing once it holds this many bytes (approximate, see <see cref="ReplicaLogWrite.ByteSize"/>),
    /// which bounds transaction size and latency; a single larger write still goes alone.
    /// </summary>
    public long MaxBytesPerBatch { get; set; } = 16L * 1024 * 1024;

    /// <summary>How long disposing waits for queued writes to commit before failing the rest.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
