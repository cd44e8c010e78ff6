namespace Storage.Consistency;

/// <summary>
/// An invoked operation, waiting for its completion. Complete it exactly once with <see cref="Ok"/>,
/// <see cref="Fail"/> or <see cref="Unknown"/>; thread-safe.
/// </summary>
public sealed class OperationHandle
{
    private readonly HistoryRecorder _recorder;
    private readonly Lock _gate = new();
    private readonly long _invokeTime;
    private readonly TimeSpan _invokeElapsed;
    private OperationOutcome? _outcome;
    private OperationResult? _result;
    private long _completeTime;
    private TimeSpan _completeElapsed;

    internal OperationHandle(HistoryRecorder recorder, int id, int client, Operation operation, long invokeTime, TimeSpan invokeElapsed)
    {
        _recorder = recorder;
        Id = id;
        Client = client;
        Operation = operation;
        _invokeTime = invokeTime;
        _invokeElapsed = invokeElapsed;
    }

    public int Id { get; }

    public int Client { get; }

    public Operation Operation { get; }

    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _outcome is not null;
            }
        }
    }

    /// <summary>The store answered with <paramref name="result"/>.</summary>
    public void Ok(OperationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!Operation.Accepts(result))
        {
            throw new ArgumentException($"{Operation} cannot complete with {result}", nameof(result));
        }

        Complete(OperationOutcome.Ok, result);
    }

    /// <summary>The store refused the operation in a way that guarantees it was not applied.</summary>
    public void Fail() => Complete(OperationOutcome.Failed, null);

    /// <summary>The outcome is unknown (timeout, connection lost): it may have been applied, now or later, or never.</summary>
    public void Unknown() => Complete(OperationOutcome.Unknown, null);

    internal OperationRecord Snapshot()
    {
        lock (_gate)
        {
            return _outcome is { } outcome
                ? new OperationRecord(Id, Client, Operation, _invokeTime, _completeTime, outcome, _result)
                {
                    InvokeElapsed = _invokeElapsed,
                    CompleteElapsed = _completeElapsed,
                }
                : new OperationRecord(Id, Client, Operation, _invokeTime, null, OperationOutcome.Unknown, null)
                {
                    InvokeElapsed = _invokeElapsed,
                };
        }
    }

    private void Complete(OperationOutcome outcome, OperationResult? result)
    {
        // The tick is taken first, outside our lock: it must be no earlier than the moment the answer arrived.
        long tick = _recorder.Tick();
        var elapsed = _recorder.Elapsed;
        lock (_gate)
        {
            if (_outcome is not null)
            {
                throw new InvalidOperationException($"operation #{Id} {Operation} is already completed ({_outcome})");
            }

            _outcome = outcome;
            _result = result;
            _completeTime = tick;
            _completeElapsed = elapsed;
        }
    }
}
