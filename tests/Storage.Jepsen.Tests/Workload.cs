using System.Text;
using Storage.Consistency;

namespace Storage.Jepsen.Tests;

/// <summary>
/// Concurrent clients doing random Get/Put/Delete/CAS on a few keys (so that operations conflict),
/// recording each as invoke/complete with ok, failed (definitely not applied) or unknown.
/// </summary>
internal sealed class Workload
{
    private readonly IStore _store;
    private readonly HistoryRecorder _history;
    private readonly string[] _keys;
    private readonly ReadConsistency _readConsistency;
    private int _counter;

    public Workload(IStore store, HistoryRecorder history, string[] keys, ReadConsistency readConsistency = ReadConsistency.Linearizable)
    {
        _store = store;
        _history = history;
        _keys = keys;
        _readConsistency = readConsistency;
    }

    /// <summary>
    /// Runs one client until <paramref name="stop"/> or <paramref name="maxOps"/>. Each write has its own
    /// WriteId (a fresh client id), so an unknown write is never retried here: it stays unknown in the history.
    /// </summary>
    public async Task ClientAsync(int client, Random rng, int maxOps, CancellationToken stop)
    {
        var lastSeen = new Dictionary<string, long>();
        for (var i = 0; i < maxOps && !stop.IsCancellationRequested; i++)
        {
            var key = _keys[rng.Next(_keys.Length)];
            var value = $"c{client}-{Interlocked.Increment(ref _counter)}";
            var roll = rng.Next(100);
            if (roll < 40)
            {
                await GetAsync(client, key, lastSeen);
            }
            else if (roll < 65)
            {
                await WriteAsync(client, Operation.Put(key, value), () => _store.PutAsync(key, Encoding.UTF8.GetBytes(value), NewId()));
            }
            else if (roll < 90)
            {
                // Mostly the version last seen (likely to succeed), sometimes 0 or a stale guess (likely to conflict).
                var expected = rng.Next(4) == 0 ? 0 : lastSeen.GetValueOrDefault(key);
                await WriteAsync(client, Operation.Cas(key, expected, value), () => _store.CompareAndSwapAsync(key, expected, Encoding.UTF8.GetBytes(value), NewId()));
            }
            else
            {
                await WriteAsync(client, Operation.Delete(key), () => _store.DeleteAsync(key, NewId()));
            }
        }
    }

    public async Task GetAsync(int client, string key, Dictionary<string, long>? lastSeen = null)
    {
        var op = _history.Invoke(client, Operation.Get(key));
        try
        {
            var r = await _store.GetAsync(key, _readConsistency);
            op.Ok(OperationResult.Read(r.Found, r.Value, r.Version));
            if (lastSeen is not null)
            {
                lastSeen[key] = r.Version;
            }
        }
        catch (Exception e) when (IsIndefinite(e) || e is StorageException)
        {
            op.Fail(); // a read that did not complete has no effect
        }
    }

    private async Task WriteAsync(int client, Operation operation, Func<Task<WriteResult>> call)
    {
        var op = _history.Invoke(client, operation);
        try
        {
            var r = await call();
            op.Ok(operation.Kind == OperationKind.Delete ? OperationResult.Deleted(r.Existed) : OperationResult.Written(r.Version, r.Existed));
        }
        catch (VersionConflictException e)
        {
            op.Ok(OperationResult.Conflict(e.Actual));
        }
        catch (Exception e) when (e is InvalidRequestException or InvalidKeyException or ValueTooLargeException)
        {
            op.Fail(); // refused before anything was applied
        }
        catch (Exception e) when (IsIndefinite(e))
        {
            op.Unknown();
        }
    }

    private static bool IsIndefinite(Exception e) =>
        e is ShardUnavailableException or TimeoutException or OrleansException or OperationCanceledException or StorageException
        || e.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true;

    private static WriteId NewId() => new(Guid.NewGuid(), 1);
}
