using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Storage.Client;
using Storage.Consistency;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// Clients that keep the cluster busy while it changes shape, through <see cref="StorageClient"/> (its retries, with
/// the same WriteId, are what an application gets). Each client mixes linearizable reads, puts, CAS and deletes on a
/// few shared keys (recorded for the linearizability checker) with puts of fresh keys nobody else writes (the ledger:
/// every acknowledged one must be readable at the end with its version). Every operation's latency is kept with its
/// start time, so latencies can be read for a window (e.g. while moves were in flight).
/// </summary>
internal sealed class ScaleWorkload
{
    private readonly StorageClient _client;
    private readonly string[] _keys;
    private readonly HistoryRecorder _history = new();
    private readonly ConcurrentDictionary<string, (long Version, string Value)> _ledger = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<(TimeSpan Start, TimeSpan Latency)> _latencies = [];
    private readonly ConcurrentBag<string> _failures = [];
    private readonly Stopwatch _clock;
    private int _counter;

    public ScaleWorkload(StorageClient client, string prefix, int keys, Stopwatch clock)
    {
        _client = client;
        _keys = Enumerable.Range(0, keys).Select(i => $"{prefix}/k{i}").ToArray();
        _clock = clock;
        Prefix = prefix;
    }

    public string Prefix { get; }

    /// <summary>Acknowledged ledger writes: key → version and value.</summary>
    public IReadOnlyDictionary<string, (long Version, string Value)> Ledger => _ledger;

    /// <summary>Operations that got no definite answer within the client's retry budget (or failed otherwise), described.</summary>
    public IReadOnlyCollection<string> Failures => _failures;

    public int Operations => _latencies.Count;

    public History History() => _history.ToHistory();

    /// <summary>Runs <paramref name="clients"/> clients until <paramref name="stop"/>; each pauses <paramref name="pause"/> between operations.</summary>
    public Task RunAsync(int clients, int seed, TimeSpan pause, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c, new Random(seed + c), pause, stop))));

    /// <summary>Reads every shared key once more (recorded) and checks the history; then reads back every ledger write.</summary>
    public async Task<(CheckResult Check, IReadOnlyList<string> Lost)> VerifyAsync()
    {
        var reader = 1000;
        foreach (var key in _keys)
        {
            await GetAsync(reader, key, null);
        }

        var lost = new List<string>();
        foreach (var (key, expected) in _ledger)
        {
            var read = await _client.GetAsync(key);
            if (!read.Found || read.Version != expected.Version || Encoding.UTF8.GetString(read.Value!) != expected.Value)
            {
                lost.Add($"{key}: acknowledged version {expected.Version} '{expected.Value}', read {(read.Found ? $"version {read.Version} '{Encoding.UTF8.GetString(read.Value!)}'" : "nothing")}");
            }
        }

        return (LinearizabilityChecker.Check(_history.ToHistory()), lost);
    }

    /// <summary>The <paramref name="percentile"/> latency of operations started in [<paramref name="from"/>, <paramref name="to"/>), and how many there were.</summary>
    public (TimeSpan Latency, int Count) Percentile(double percentile, TimeSpan from, TimeSpan to)
    {
        var window = _latencies.Where(l => l.Start >= from && l.Start < to).Select(l => l.Latency).Order().ToList();
        if (window.Count == 0)
        {
            return (TimeSpan.Zero, 0);
        }

        var rank = (int)Math.Ceiling(percentile / 100 * window.Count) - 1;
        return (window[Math.Clamp(rank, 0, window.Count - 1)], window.Count);
    }

    private async Task ClientAsync(int client, Random rng, TimeSpan pause, CancellationToken stop)
    {
        var lastSeen = new Dictionary<string, long>();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = _keys[rng.Next(_keys.Length)];
            var value = $"c{client}-{Interlocked.Increment(ref _counter)}";
            var roll = rng.Next(100);
            if (roll < 35)
            {
                await GetAsync(client, key, lastSeen);
            }
            else if (roll < 55)
            {
                await WriteAsync(client, Operation.Put(key, value), () => _client.PutAsync(key, value));
            }
            else if (roll < 70)
            {
                var expected = rng.Next(4) == 0 ? 0 : lastSeen.GetValueOrDefault(key);
                await WriteAsync(client, Operation.Cas(key, expected, value), () => _client.CompareAndSwapAsync(key, expected, Encoding.UTF8.GetBytes(value)));
            }
            else if (roll < 75)
            {
                await WriteAsync(client, Operation.Delete(key), () => _client.DeleteAsync(key));
            }
            else
            {
                await LedgerAsync($"{Prefix}/ledger/{client}/{n}", value);
            }

            await Task.Delay(pause, CancellationToken.None);
        }
    }

    private async Task GetAsync(int client, string key, Dictionary<string, long>? lastSeen)
    {
        var op = _history.Invoke(client, Operation.Get(key));
        var start = _clock.Elapsed;
        try
        {
            var r = await _client.GetAsync(key);
            op.Ok(OperationResult.Read(r.Found, r.Value, r.Version));
            if (lastSeen is not null)
            {
                lastSeen[key] = r.Version;
            }
        }
        catch (Exception e)
        {
            op.Fail(); // a read that did not complete has no effect
            _failures.Add($"get {key} at {start.TotalSeconds:0.0} s: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _latencies.Add((start, _clock.Elapsed - start));
        }
    }

    private async Task WriteAsync(int client, Operation operation, Func<Task<WriteResult>> call)
    {
        var op = _history.Invoke(client, operation);
        var start = _clock.Elapsed;
        try
        {
            var r = await call();
            op.Ok(operation.Kind == OperationKind.Delete ? OperationResult.Deleted(r.Existed) : OperationResult.Written(r.Version, r.Existed));
        }
        catch (VersionConflictException e)
        {
            op.Ok(OperationResult.Conflict(e.Actual));
        }
        catch (Exception e)
        {
            // The client's retry budget ran out (or worse): the outcome is unknown, and the test fails on it.
            op.Unknown();
            _failures.Add($"{operation} at {start.TotalSeconds:0.0} s: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _latencies.Add((start, _clock.Elapsed - start));
        }
    }

    private async Task LedgerAsync(string key, string value)
    {
        var start = _clock.Elapsed;
        try
        {
            var r = await _client.PutAsync(key, value);
            _ledger[key] = (r.Version, value);
        }
        catch (Exception e)
        {
            _failures.Add($"ledger put {key} at {start.TotalSeconds:0.0} s: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _latencies.Add((start, _clock.Elapsed - start));
        }
    }
}
