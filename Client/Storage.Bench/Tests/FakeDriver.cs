using System.Collections.Concurrent;

namespace Storage.Bench.Tests;

/// <summary>An in-memory driver: a dictionary, optional delays, and a failure rule; counts every call.</summary>
internal sealed class FakeDriver : IBenchDriver
{
    private readonly ConcurrentDictionary<string, byte[]> data = new(StringComparer.Ordinal);
    private long reads;
    private long writes;

    public string Name => "fake";

    public string ReadSemantics => "in memory";

    public TimeSpan ReadDelay { get; init; }

    public TimeSpan WriteDelay { get; init; }

    /// <summary>Called with the 1-based number of the write; true makes that write fail.</summary>
    public Func<long, bool> FailWrite { get; init; } = _ => false;

    public bool Prepared { get; private set; }

    public long Reads => Interlocked.Read(ref reads);

    public long Writes => Interlocked.Read(ref writes);

    public int Stored => data.Count;

    public Task PrepareAsync(CancellationToken ct)
    {
        Prepared = true;
        return Task.CompletedTask;
    }

    public async ValueTask ReadAsync(string key, CancellationToken ct)
    {
        Interlocked.Increment(ref reads);
        if (ReadDelay > TimeSpan.Zero)
        {
            await Task.Delay(ReadDelay, ct);
        }
        else
        {
            await Task.Yield();
        }

        data.TryGetValue(key, out _);
    }

    public async ValueTask WriteAsync(string key, byte[] value, CancellationToken ct)
    {
        var n = Interlocked.Increment(ref writes);
        if (WriteDelay > TimeSpan.Zero)
        {
            await Task.Delay(WriteDelay, ct);
        }
        else
        {
            await Task.Yield();
        }

        if (FailWrite(n))
        {
            throw new InvalidOperationException("injected write failure");
        }

        data[key] = value;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
