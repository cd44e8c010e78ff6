using System.Collections.Concurrent;

namespace Storage.Bench.Tests;

/// <summary>
/// An in-memory driver: a dictionary, optional delays, and a failure rule; counts every call. With a
/// <see cref="Clock"/>, a delay moves that clock instead of waiting.
/// </summary>
internal sealed class FakeDriver : IBenchDriver
{
    private readonly ConcurrentDictionary<string, byte[]> _data = new(StringComparer.Ordinal);
    private long _reads;
    private long _writes;

    public string Name => "fake";

    public string ReadSemantics => "in memory";

    public ManualClock? Clock { get; init; }

    /// <summary>With a <see cref="Clock"/>: after moving it, an operation waits for the task this returns for the new time (µs).</summary>
    public Func<long, Task>? Gate { get; init; }

    public TimeSpan ReadDelay { get; init; }

    public TimeSpan WriteDelay { get; init; }

    /// <summary>Called with the 1-based number of the write; true makes that write fail.</summary>
    public Func<long, bool> FailWrite { get; init; } = _ => false;

    public bool Prepared { get; private set; }

    public long Reads => Interlocked.Read(ref _reads);

    public long Writes => Interlocked.Read(ref _writes);

    public int Stored => _data.Count;

    public Task PrepareAsync(CancellationToken ct)
    {
        Prepared = true;
        return Task.CompletedTask;
    }

    public async ValueTask ReadAsync(string key, CancellationToken ct)
    {
        Interlocked.Increment(ref _reads);
        await DelayAsync(ReadDelay, ct);

        _data.TryGetValue(key, out _);
    }

    public async ValueTask WriteAsync(string key, byte[] value, CancellationToken ct)
    {
        var n = Interlocked.Increment(ref _writes);
        await DelayAsync(WriteDelay, ct);

        if (FailWrite(n))
        {
            throw new InvalidOperationException("injected write failure");
        }

        _data[key] = value;
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        if (Clock is not null)
        {
            await Task.Yield();
            Clock.Advance(delay);
            if (Gate is not null)
            {
                await Gate(Clock.GetTimestamp());
            }
        }
        else if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, ct);
        }
        else
        {
            await Task.Yield();
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
