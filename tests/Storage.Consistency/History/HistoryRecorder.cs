using System.Diagnostics;

namespace Storage.Consistency;

/// <summary>
/// Records a history from concurrent clients. Thread-safe.
/// <para>Call <see cref="Invoke"/> right before sending a request and complete the returned handle right
/// after the answer (or the give-up). Times come from one logical clock (an interlocked counter): every
/// event gets a distinct, increasing tick, so if one operation completed before another was invoked in
/// real time, its completion tick is smaller — exactly the real-time order linearizability is about, with
/// no clock resolution or skew issues. Wall-clock offsets are kept alongside for reports.</para>
/// <para>Mapping the store's answers: results → <see cref="OperationHandle.Ok"/> (a CAS
/// <c>VersionConflictException</c> → <see cref="OperationResult.Conflict"/>, which is an answer);
/// <c>InvalidKeyException</c>, <c>ValueTooLargeException</c>, <c>InvalidRequestException</c> →
/// <see cref="OperationHandle.Fail"/>; <c>ShardUnavailableException</c>, timeouts, lost connections and
/// anything unexpected → <see cref="OperationHandle.Unknown"/>. A write retried with the same WriteId is
/// one logical operation: keep one handle across the retries. Record only linearizable reads.</para>
/// </summary>
public sealed class HistoryRecorder
{
    private readonly Lock _gate = new();
    private readonly List<OperationHandle> _operations = [];
    private readonly Stopwatch _stopwatch = Stopwatch.StartNew();
    private long _clock;

    /// <summary>The last tick handed out.</summary>
    public long Now => Interlocked.Read(ref _clock);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _operations.Count;
            }
        }
    }

    /// <summary>Records the invocation of <paramref name="operation"/> by <paramref name="client"/>.</summary>
    public OperationHandle Invoke(int client, Operation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        lock (_gate)
        {
            // Under the lock so ids follow invocation order, which keeps reports easy to read.
            long tick = Tick();
            var handle = new OperationHandle(this, _operations.Count, client, operation, tick, _stopwatch.Elapsed);
            _operations.Add(handle);
            return handle;
        }
    }

    /// <summary>
    /// A snapshot of everything recorded so far. Operations still in flight appear as
    /// <see cref="OperationOutcome.Unknown"/> without a completion time: they may yet take effect.
    /// </summary>
    public History ToHistory()
    {
        OperationHandle[] handles;
        lock (_gate)
        {
            handles = _operations.ToArray();
        }

        return new History(handles.Select(h => h.Snapshot()));
    }

    internal long Tick() => Interlocked.Increment(ref _clock);

    internal TimeSpan Elapsed => _stopwatch.Elapsed;
}
