using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Storage.Persistence;

/// <summary>
/// The silo-wide group-commit queue in front of <see cref="IRaftLogStore"/>: replicas enqueue their writes
/// concurrently, and one background loop takes everything queued (up to the batch limits), commits it with a
/// single <see cref="IRaftLogStore.WriteBatchAsync"/> and completes each caller's task. While one transaction is
/// in flight the next batch accumulates, so batches grow with load and no timer delays a lone write.
/// </summary>
/// <remarks>
/// Ordering: the loop is the only consumer and batches run one after another in queue order, so the writes of
/// one replica commit in the order they were enqueued. A failed batch faults every caller in it with the
/// store's exception — the commit may or may not have happened — and poisons each (replica, incarnation)
/// in it: later writes of that incarnation fail with <see cref="ReplicaLogPoisonedException"/> instead of
/// committing behind a hole. A write with a higher incarnation (the replica reloaded) clears the poison.
/// Disposal stops accepting writes, commits what is queued (bounded by
/// <see cref="LogWriterOptions.ShutdownTimeout"/>) and fails whatever could not be committed.
/// </remarks>
public sealed partial class LogWriter : IAsyncDisposable, IDisposable
{
    private readonly IRaftLogStore _store;
    private readonly LogWriterOptions _options;
    private readonly ILogger _logger;
    private readonly LogWriterMetrics _metrics;
    private readonly Channel<PendingWrite> _queue =
        Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });

    private readonly CancellationTokenSource _abort = new();

    // Touched only by the loop.
    private readonly Dictionary<string, (long Incarnation, Exception Failure)> _poisoned = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private int _queued;  // the single-reader channel cannot count itself
    private int _disposed;

    public LogWriter(IRaftLogStore store, IOptions<LogWriterOptions> options, ILogger<LogWriter> logger, IMeterFactory? meterFactory = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _metrics = new LogWriterMetrics(meterFactory, () => Volatile.Read(ref _queued));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Queues a write; the task completes when its batch committed (<see cref="WriteOutcome.Committed"/> or
    /// <see cref="WriteOutcome.Fenced"/>) or faults with the batch's error. Not cancellable once queued:
    /// dropping a write from the middle of a replica's sequence would reorder its log.
    /// </summary>
    /// <exception cref="ArgumentException">The write is malformed (see <see cref="ReplicaLogWrite.Validate"/>); nothing was queued.</exception>
    public Task<WriteOutcome> WriteAsync(ReplicaLogWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        // Reject a malformed write here, alone, rather than failing the batch it would have joined.
        write.Validate();
        var pending = new PendingWrite(write);
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _queued);
            return Task.FromException<WriteOutcome>(new ObjectDisposedException(nameof(LogWriter), "The log writer is stopping and accepts no new writes."));
        }

        return pending.Completion.Task;
    }

    /// <summary>Stops accepting writes and waits until the queued ones are committed; on cancellation fails the rest.</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            LogStopTimedOut(Volatile.Read(ref _queued));
            await _abort.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _loop.ConfigureAwait(false);
            return;
        }

        using (var timeout = new CancellationTokenSource(_options.ShutdownTimeout))
        {
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }

        _metrics.Dispose();
        _abort.Dispose();
    }

    /// <summary>Blocks until the queue is drained; prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingWrite>();
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
            {
                batch.Clear();
                long bytes = 0;
                while (batch.Count < _options.MaxWritesPerBatch && reader.TryPeek(out var next))
                {
                    if (batch.Count > 0 && bytes + next.Bytes > _options.MaxBytesPerBatch)
                    {
                        break;
                    }

                    reader.TryRead(out _);
                    Interlocked.Decrement(ref _queued);
                    if (!Refuse(next))
                    {
                        batch.Add(next);
                        bytes += next.Bytes;
                    }
                }

                if (batch.Count > 0)
                {
                    await CommitAsync(batch, bytes).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Aborted by StopAsync: fall through and fail what is left.
        }
        catch (Exception ex)
        {
            // CommitAsync handles store failures; anything here is a bug, but callers must still hear about it.
            LogLoopCrashed(ex);
            foreach (var pending in batch)
            {
                Fail(pending, ex, "failed");
            }
        }

        // Whatever ended the loop, no write may be accepted that nobody will ever complete.
        _queue.Writer.TryComplete();
        var stopped = new ObjectDisposedException(nameof(LogWriter), "The log writer stopped before this write could be committed.");
        while (reader.TryRead(out var left))
        {
            Interlocked.Decrement(ref _queued);
            Fail(left, stopped, "refused");
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch, long bytes)
    {
        var writes = new ReplicaLogWrite[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            writes[i] = batch[i].Write;
        }

        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<WriteOutcome> outcomes;
        try
        {
            outcomes = await _store.WriteBatchAsync(writes, _abort.Token).ConfigureAwait(false);
            if (outcomes.Count != writes.Length)
            {
                throw new InvalidOperationException($"The log store returned {outcomes.Count} outcomes for {writes.Length} writes.");
            }
        }
        catch (Exception ex)
        {
            _metrics.FailedBatches.Add(1);
            LogBatchFailed(ex, writes.Length, string.Join(", ", writes.Select(w => w.ReplicaId).Distinct().Take(10)));
            foreach (var pending in batch)
            {
                var key = pending.Write.ReplicaId;
                var incarnation = _poisoned.TryGetValue(key, out var earlier) ? Math.Max(earlier.Incarnation, pending.Write.Incarnation) : pending.Write.Incarnation;
                _poisoned[key] = (incarnation, ex);
                Fail(pending, ex, "failed");
            }

            return;
        }

        _metrics.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        _metrics.Batches.Add(1);
        _metrics.WritesPerBatch.Record(writes.Length);
        _metrics.Bytes.Add(bytes);
        for (var i = 0; i < batch.Count; i++)
        {
            _metrics.Writes.Add(1, new KeyValuePair<string, object?>("outcome", outcomes[i] == WriteOutcome.Committed ? "committed" : "fenced"));
            batch[i].Completion.TrySetResult(outcomes[i]);
        }
    }

    /// <summary>Fails a write of a poisoned incarnation; returns false (and lifts the poison) for a newer incarnation.</summary>
    private bool Refuse(PendingWrite pending)
    {
        var write = pending.Write;
        if (!_poisoned.TryGetValue(write.ReplicaId, out var poison))
        {
            return false;
        }

        if (write.Incarnation > poison.Incarnation)
        {
            _poisoned.Remove(write.ReplicaId);
            return false;
        }

        Fail(pending, new ReplicaLogPoisonedException(write.ReplicaId, write.Incarnation, poison.Failure), "refused");
        return true;
    }

    private void Fail(PendingWrite pending, Exception ex, string outcome)
    {
        if (pending.Completion.TrySetException(ex))
        {
            _metrics.Writes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Log batch of {Count} writes failed (replicas {Replicas}); their outcome is unknown and those incarnations are poisoned")]
    private partial void LogBatchFailed(Exception ex, int count, string replicas);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log writer stop timed out with {Queued} writes queued; failing them")]
    private partial void LogStopTimedOut(int queued);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Log writer loop crashed; failing all queued writes")]
    private partial void LogLoopCrashed(Exception ex);

    private sealed class PendingWrite
    {
        public PendingWrite(ReplicaLogWrite write)
        {
            Write = write;
            Bytes = write.ByteSize;
        }

        public ReplicaLogWrite Write { get; }

        public long Bytes { get; }

        // Asynchronous continuations: completing a caller must never run its code on the writer loop.
        public TaskCompletionSource<WriteOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
