using System.Collections.Concurrent;

namespace Storage.Client;

/// <summary>
/// Idle <see cref="WriteSession"/>s for concurrent writers. A write leases one (or a new one when none is idle)
/// and gives it back only once its write got a definite answer; a session whose write ended with an unknown
/// outcome is dropped, so that no later write can ever reach the store with that id at a lower or equal sequence
/// while the first one may still be applied.
/// </summary>
internal sealed class WriteSessionPool
{
    private readonly ConcurrentBag<WriteSession> _idle = new();
    private readonly int _maxIdle;
    private long _created;

    public WriteSessionPool(int maxIdle) => _maxIdle = maxIdle;

    /// <summary>How many sessions (client ids) were ever created.</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>How many sessions are idle now.</summary>
    public int IdleCount => _idle.Count;

    public WriteSession Lease()
    {
        if (_idle.TryTake(out var session))
        {
            return session;
        }

        Interlocked.Increment(ref _created);
        return new WriteSession(Guid.NewGuid());
    }

    /// <summary>Returns a session whose last write got a definite answer. Beyond the idle cap it is simply forgotten.</summary>
    public void Return(WriteSession session)
    {
        // The cap is approximate under races; it only bounds memory after a burst of concurrency.
        if (_idle.Count < _maxIdle)
        {
            _idle.Add(session);
        }
    }
}
