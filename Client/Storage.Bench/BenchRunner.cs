using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using HdrHistogram;

namespace Storage.Bench;

/// <summary>
/// The benchmark loop shared by every driver: prepare the driver, preload the keys when the workload reads, then
/// <see cref="BenchOptions.Concurrency"/> workers run operations back to back (a closed loop) — first for the
/// warm-up, which is not counted, then for the measured window (<see cref="BenchOptions.Duration"/> or
/// <see cref="BenchOptions.Operations"/>). Each worker records its latencies in its own HdrHistogram recorder
/// (microseconds); the recorders are merged as the run goes and at its end. A failed operation is counted, never
/// thrown. An operation counts in the window it completes in; operations still running when the window closes
/// are waited for (up to <see cref="DrainTimeout"/>) but not counted.
/// </summary>
public sealed class BenchRunner
{
    /// <summary>Latencies above this are recorded as this (HdrHistogram needs a range).</summary>
    public static readonly TimeSpan HighestTrackableLatency = TimeSpan.FromMinutes(2);

    private const int SignificantDigits = 3;
    private const int MaxErrorKinds = 20;

    private readonly BenchOptions _options;
    private readonly IBenchDriver _driver;

    public BenchRunner(BenchOptions options, IBenchDriver driver)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(driver);
        _options = options;
        _driver = driver;
    }

    /// <summary>Where time comes from (timestamps of the window and of every operation); the system clock unless a test drives it.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>How often progress is reported and the workers' recorders are merged.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a worker pauses after a failed operation, so that a dead target is not hammered in a tight loop.</summary>
    public TimeSpan ErrorBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long to wait, after the window closed, for operations still running; then they are cancelled.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs the benchmark. The driver is prepared here but not disposed (the caller owns it).</summary>
    /// <param name="progress">Called from one thread every <see cref="ProgressInterval"/>; null for none.</param>
    /// <param name="ct">Cancels the run (then <see cref="OperationCanceledException"/> is thrown).</param>
    /// <returns>The result of the measured window.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public async Task<BenchResult> RunAsync(Action<BenchProgress>? progress = null, CancellationToken ct = default)
    {
        var errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors));
        }

        var startedAt = DateTimeOffset.UtcNow;
        progress?.Invoke(new BenchProgress(BenchPhase.Preparing, 0, TimeSpan.Zero, 0, 0, 0, 0));
        await _driver.PrepareAsync(ct).ConfigureAwait(false);

        var seed = _options.Seed ?? Random.Shared.Next();
        var (preloaded, preloadErrors) = _options.ShouldPreload
            ? await PreloadAsync(seed, progress, ct).ConfigureAwait(false)
            : (0L, 0L);

        var readFraction = _options.Workload.ReadFraction();
        var workers = new Worker[_options.Concurrency];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Worker(i, seed, _options.ValueSize, readFraction);
        }

        var window = new Window(Clock.GetTimestamp(), Clock.TimestampFrequency, _options);
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var tasks = workers.Select(w => Task.Run(() => WorkAsync(w, window, readFraction, drain.Token), CancellationToken.None)).ToArray();
        var all = Task.WhenAll(tasks);

        var totals = new Totals();
        var sampler = new Sampler(workers, totals, Clock.GetTimestamp(), Clock.TimestampFrequency);
        var drainDeadline = long.MaxValue;
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(ProgressInterval, CancellationToken.None)).ConfigureAwait(false);
            var now = Clock.GetTimestamp();
            sampler.Sample(now);
            if (window.Stopped && drainDeadline == long.MaxValue)
            {
                drainDeadline = now + Ticks(DrainTimeout, Clock.TimestampFrequency);
            }

            if (now >= drainDeadline && !drain.IsCancellationRequested)
            {
                await drain.CancelAsync().ConfigureAwait(false);
            }

            progress?.Invoke(sampler.Progress(window, now));
        }

        // Surfaces a bug in the loop itself; operation failures never get here.
        await all.ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        sampler.Sample(Clock.GetTimestamp());

        var measuredTicks = Math.Max(1, (window.End == long.MaxValue ? Clock.GetTimestamp() : window.End) - window.Start);
        var seconds = measuredTicks / (double)Clock.TimestampFrequency;
        var ops = workers.Sum(w => w.Completed);
        var failed = workers.Sum(w => w.Errors);
        var result = new BenchResult
        {
            Label = _options.Label,
            Driver = _driver.Name,
            Workload = _options.Workload.Name(),
            Concurrency = _options.Concurrency,
            Consistency = _options.Consistency.Name(),
            ReadSemantics = readFraction > 0 ? _driver.ReadSemantics : "no reads",
            Keys = _options.Keys,
            ValueSize = _options.ValueSize,
            WarmupSeconds = _options.Warmup.TotalSeconds,
            DurationSeconds = Math.Round(seconds, 3),
            Ops = ops,
            Errors = failed,
            Throughput = Math.Round(ops / seconds, 1),
            Latency = LatencySummary.FromMicroseconds(totals.All),
            Reads = LatencySummary.FromMicroseconds(totals.Reads),
            Writes = LatencySummary.FromMicroseconds(totals.Writes),
            Preloaded = preloaded,
            PreloadErrors = preloadErrors,
            ErrorKinds = window.ErrorKinds
                .OrderByDescending(kv => kv.Value)
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            StartedAt = startedAt,
            Machine = MachineDescription(),
        };
        progress?.Invoke(new BenchProgress(BenchPhase.Done, 1, TimeSpan.FromSeconds(seconds), ops, failed, result.Throughput, result.P99Ms));
        return result;
    }

    /// <summary>"host, N cpus, OS, .NET x" — where a result was measured.</summary>
    public static string MachineDescription() =>
        $"{Environment.MachineName}, {Environment.ProcessorCount} cpus, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    private static long Ticks(TimeSpan span, long frequency) => (long)(span.TotalSeconds * frequency);

    private long Micros(long ticks) => Math.Clamp((long)(ticks * 1_000_000.0 / Clock.TimestampFrequency), 1, (long)HighestTrackableLatency.TotalMicroseconds);

    private static Recorder NewRecorder() =>
        HistogramFactory.With32BitBucketSize()
            .WithValuesFrom(1)
            .WithValuesUpTo((long)HighestTrackableLatency.TotalMicroseconds)
            .WithPrecisionOf(SignificantDigits)
            .WithThreadSafeReads()
            .Create();

    private static LongHistogram NewTotal() => new(1, (long)HighestTrackableLatency.TotalMicroseconds, SignificantDigits);

    private static string ErrorKind(Exception e)
    {
        var inner = e is AggregateException { InnerException: { } first } ? first : e;
        var message = inner.Message.ReplaceLineEndings(" ");
        return $"{inner.GetType().Name}: {(message.Length > 160 ? message[..160] + "…" : message)}";
    }

    private async Task<(long Done, long Errors)> PreloadAsync(int seed, Action<BenchProgress>? progress, CancellationToken ct)
    {
        var next = -1;
        long done = 0;
        long failed = 0;
        var started = Clock.GetTimestamp();
        var kinds = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var loaders = Enumerable.Range(0, Math.Min(_options.Concurrency, _options.Keys)).Select(i => Task.Run(async () =>
        {
            var value = Worker.RandomValue(new Random(HashCode.Combine(seed, i, "preload")), _options.ValueSize);
            int index;
            while ((index = Interlocked.Increment(ref next)) < _options.Keys)
            {
                try
                {
                    await _driver.WriteAsync(_options.Key(index), value, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref done);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref failed);
                    if (kinds.Count < MaxErrorKinds)
                    {
                        kinds.AddOrUpdate(ErrorKind(e), 1, (_, n) => n + 1);
                    }

                    await Task.Delay(ErrorBackoff, ct).ConfigureAwait(false);
                }
            }
        }, CancellationToken.None)).ToArray();

        var all = Task.WhenAll(loaders);
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(ProgressInterval, CancellationToken.None)).ConfigureAwait(false);
            var d = Interlocked.Read(ref done);
            var f = Interlocked.Read(ref failed);
            var elapsed = Clock.GetElapsedTime(started);
            progress?.Invoke(new BenchProgress(BenchPhase.Preloading, (d + f) / (double)_options.Keys, elapsed, d, f, d / Math.Max(elapsed.TotalSeconds, 1e-3), 0));
        }

        await all.ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        if (failed > 0 && done == 0)
        {
            // Nothing could be written: the target is not usable, and the run would only count errors.
            throw new InvalidOperationException($"preload failed for all {failed} keys; first error: {kinds.OrderByDescending(kv => kv.Value).First().Key}");
        }

        return (done, failed);
    }

    private async Task WorkAsync(Worker worker, Window window, double readFraction, CancellationToken ct)
    {
        var byOps = _options.Operations is not null;
        var limit = _options.Operations ?? long.MaxValue;
        while (!window.Stopped && !ct.IsCancellationRequested)
        {
            var key = _options.Key(worker.Random.Next(_options.Keys));
            var read = readFraction >= 1 || (readFraction > 0 && worker.Random.NextDouble() < readFraction);
            var start = Clock.GetTimestamp();
            if (!byOps && start >= window.End)
            {
                window.Stop();
                break;
            }

            Exception? error = null;
            try
            {
                if (read)
                {
                    await _driver.ReadAsync(key, ct).ConfigureAwait(false);
                }
                else
                {
                    await _driver.WriteAsync(key, worker.Value, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                error = e;
            }

            var end = Clock.GetTimestamp();
            if (end >= window.Start)
            {
                if (byOps)
                {
                    var ticket = Interlocked.Increment(ref window.Tickets);
                    if (ticket > limit)
                    {
                        break;
                    }

                    if (ticket == limit)
                    {
                        window.End = end;
                        window.Stop();
                    }
                }
                else if (end > window.End)
                {
                    window.Stop();
                    break;
                }

                if (error is null)
                {
                    (read ? worker.Reads : worker.Writes)!.RecordValue(Micros(end - start));
                    Interlocked.Increment(ref worker.Completed);
                }
                else
                {
                    Interlocked.Increment(ref worker.Errors);
                    window.CountError(error);
                }
            }

            if (error is not null)
            {
                try
                {
                    await Task.Delay(ErrorBackoff, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>The measured window, shared by the workers: it opens after the warm-up and closes at the duration or at the op count.</summary>
    private sealed class Window
    {
        public readonly long Origin;
        public readonly long Start;
        public readonly long? Limit;
        public readonly long DurationTicks;
        public readonly long WarmupTicks;
        public readonly ConcurrentDictionary<string, long> ErrorKinds = new(StringComparer.Ordinal);
        public long End;
        public long Tickets;
        private int _stopped;

        public Window(long origin, long frequency, BenchOptions options)
        {
            Origin = origin;
            WarmupTicks = Ticks(options.Warmup, frequency);
            Start = origin + WarmupTicks;
            Limit = options.Operations;
            DurationTicks = Ticks(options.Duration, frequency);
            End = options.Operations is null ? Start + DurationTicks : long.MaxValue;
        }

        public bool Stopped => Volatile.Read(ref _stopped) != 0;

        public void Stop() => Volatile.Write(ref _stopped, 1);

        public void CountError(Exception e)
        {
            var kind = ErrorKind(e);
            if (ErrorKinds.Count < MaxErrorKinds || ErrorKinds.ContainsKey(kind))
            {
                ErrorKinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
            }
        }
    }

    /// <summary>One closed-loop client: its own random stream, value and recorders.</summary>
    private sealed class Worker
    {
        public readonly Random Random;
        public readonly byte[] Value;
        public readonly Recorder? Reads;
        public readonly Recorder? Writes;
        public HistogramBase? ReadsRecycled;
        public HistogramBase? WritesRecycled;
        public long Completed;
        public long Errors;

        public Worker(int index, int seed, int valueSize, double readFraction)
        {
            Random = new Random(HashCode.Combine(seed, index));
            Value = RandomValue(Random, valueSize);
            Reads = readFraction > 0 ? NewRecorder() : null;
            Writes = readFraction < 1 ? NewRecorder() : null;
        }

        public static byte[] RandomValue(Random random, int size)
        {
            var value = new byte[size];
            random.NextBytes(value);
            return value;
        }
    }

    /// <summary>The merged latencies of the measured window, in microseconds.</summary>
    private sealed class Totals
    {
        public readonly LongHistogram Reads = NewTotal();
        public readonly LongHistogram Writes = NewTotal();
        public readonly LongHistogram All = NewTotal();
    }

    /// <summary>Merges the workers' interval histograms into the totals and keeps what the progress display shows.</summary>
    private sealed class Sampler(Worker[] workers, Totals totals, long start, long frequency)
    {
        private readonly LongHistogram _recent = NewTotal();
        private long _lastOps;
        private long _lastSample = start;
        private double _opsPerSecond;

        public void Sample(long now)
        {
            _recent.Reset();
            foreach (var worker in workers)
            {
                if (worker.Reads is not null)
                {
                    worker.ReadsRecycled = worker.Reads.GetIntervalHistogram(worker.ReadsRecycled);
                    Merge(worker.ReadsRecycled, totals.Reads);
                }

                if (worker.Writes is not null)
                {
                    worker.WritesRecycled = worker.Writes.GetIntervalHistogram(worker.WritesRecycled);
                    Merge(worker.WritesRecycled, totals.Writes);
                }
            }

            var ops = workers.Sum(w => Interlocked.Read(ref w.Completed));
            var seconds = (now - _lastSample) / (double)frequency;
            if (seconds > 0)
            {
                _opsPerSecond = (ops - _lastOps) / seconds;
            }

            _lastOps = ops;
            _lastSample = now;
        }

        public BenchProgress Progress(Window window, long now)
        {
            var ops = _lastOps;
            var errors = workers.Sum(w => Interlocked.Read(ref w.Errors));
            var p99 = _recent.TotalCount > 0 ? _recent.GetValueAtPercentile(99) / 1000.0 : 0;
            if (now < window.Start)
            {
                var elapsed = now - window.Origin;
                return new BenchProgress(BenchPhase.WarmingUp, window.WarmupTicks == 0 ? 1 : elapsed / (double)window.WarmupTicks, Elapsed(elapsed), 0, 0, _opsPerSecond, 0);
            }

            var measured = Elapsed(Math.Min(now, window.End) - window.Start);
            var fraction = window.Limit is { } limit
                ? Math.Min(1, Interlocked.Read(ref window.Tickets) / (double)limit)
                : Math.Min(1, (now - window.Start) / (double)Math.Max(1, window.DurationTicks));
            return new BenchProgress(window.Stopped ? BenchPhase.Draining : BenchPhase.Measuring, fraction, measured, ops, errors, _opsPerSecond, p99);
        }

        private TimeSpan Elapsed(long ticks) => TimeSpan.FromSeconds(Math.Max(0, ticks) / (double)frequency);

        private void Merge(HistogramBase interval, LongHistogram total)
        {
            if (interval.TotalCount == 0)
            {
                return;
            }

            total.Add(interval);
            totals.All.Add(interval);
            _recent.Add(interval);
        }
    }
}
