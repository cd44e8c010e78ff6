namespace Storage.Development;

/// <summary>
/// An exclusive lock on a file, across processes: <see cref="FileShare.None"/> takes an advisory lock (flock) on
/// Unix, which excludes other processes too. The kernel drops it when its holder dies, however it dies, so
/// holding it also proves that no earlier holder is still alive.
/// </summary>
public sealed class FileLock : IDisposable, IAsyncDisposable
{
    private readonly FileStream _stream;

    private FileLock(string path, FileStream stream)
    {
        Path = path;
        _stream = stream;
    }

    /// <summary>The lock file (created if missing; left in place on release).</summary>
    public string Path { get; }

    /// <summary>Takes the lock now, or returns null if another holder has it.</summary>
    public static FileLock? TryAcquire(string path) => TryAcquire(path, out _);

    /// <summary>Takes the lock now, or returns null with the reason if another holder has it.</summary>
    public static FileLock? TryAcquire(string path, out IOException? failure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            failure = null;
            return new FileLock(path, new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            failure = e;
            return null;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock.</summary>
    /// <exception cref="TimeoutException">Another holder kept it for longer than <paramref name="timeout"/>.</exception>
    public static async Task<FileLock> AcquireAsync(string path, TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (TryAcquire(path, out var failure) is { } acquired)
            {
                return acquired;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Another process holds {path} for longer than {timeout.TotalSeconds:0} s.", failure);
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    public void Dispose() => _stream.Dispose();

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
