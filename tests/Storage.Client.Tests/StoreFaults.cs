using System.Collections.Concurrent;

namespace Storage.Client.Tests;

/// <summary>
/// Faults to inject between a <see cref="StorageClient"/> and its <see cref="IStore"/> reference, and a record of
/// what the client sent: every write's <see cref="WriteId"/>, whether a client id ever had two writes in flight,
/// and the attempts per operation. A lost reply forwards the call (so the store applies it) and then throws a
/// timeout, which is exactly an unknown outcome for the client.
/// </summary>
public sealed class StoreFaults
{
    private readonly ConcurrentDictionary<Guid, int> _inFlight = new();
    private readonly ConcurrentDictionary<string, int> _lostOnce = new();
    private readonly ConcurrentDictionary<string, int> _attemptsPerKey = new();

    /// <summary>Keys whose first write attempt is applied but whose reply is lost (later replies flow again).</summary>
    public Func<string, bool> LoseFirstReply { get; init; } = _ => false;

    /// <summary>Keys whose every write attempt is applied but answered with a timeout.</summary>
    public Func<string, bool> LoseEveryReply { get; init; } = _ => false;

    /// <summary>
    /// An error to answer a write attempt with instead of sending it (by key and the key's attempt number, from 1),
    /// as the store would answer it; null sends the attempt.
    /// </summary>
    public Func<string, int, Exception?> FailBeforeSending { get; init; } = (_, _) => null;

    /// <summary>
    /// An error to answer an operator call with instead of sending it, by operation (drain, undrain, split, replace) and its
    /// attempt number (from 1); null sends the attempt.
    /// </summary>
    public Func<string, int, Exception?> FailOperatorCall { get; init; } = (_, _) => null;

    /// <summary>Every write attempt in the order it was made.</summary>
    public ConcurrentQueue<(string Operation, string Key, WriteId Id)> Writes { get; } = new();

    /// <summary>What the store really answered to each attempt whose reply was then thrown away.</summary>
    public ConcurrentQueue<(WriteId Id, long Version)> LostReplies { get; } = new();

    /// <summary>Attempts per operation name (get, put, delete, cas, scan, status).</summary>
    public ConcurrentDictionary<string, int> Attempts { get; } = new();

    /// <summary>Client ids that were used by two writes at the same time (must stay empty).</summary>
    public ConcurrentQueue<Guid> OverlappingClientIds { get; } = new();

    /// <summary>The decorator to hand to <see cref="StorageClient.ConnectCoreAsync"/>.</summary>
    public IStore Wrap(IStore inner) => FaultyStoreProxy.Create(inner, this);

    public int Count(string operation) => Attempts.AddOrUpdate(operation, 1, (_, n) => n + 1);

    /// <summary>Counts an operator call's attempt and fails it if <see cref="FailOperatorCall"/> says so, else sends it.</summary>
    public async Task<T> OperatorCallAsync<T>(string operation, Func<Task<T>> call)
    {
        if (FailOperatorCall(operation, Count(operation)) is { } failure)
        {
            throw failure;
        }

        return await call();
    }

    public async Task<WriteResult> WriteAsync(string operation, string key, WriteId id, Func<Task<WriteResult>> call)
    {
        Count(operation);
        Writes.Enqueue((operation, key, id));
        if (!_inFlight.TryAdd(id.ClientId, 0))
        {
            OverlappingClientIds.Enqueue(id.ClientId);
        }

        try
        {
            if (FailBeforeSending(key, _attemptsPerKey.AddOrUpdate(key, 1, (_, n) => n + 1)) is { } failure)
            {
                throw failure;
            }

            var result = await call();
            if (LoseEveryReply(key) || (LoseFirstReply(key) && _lostOnce.TryAdd(key, 0)))
            {
                LostReplies.Enqueue((id, result.Version));
                throw new TimeoutException($"test: reply to {operation} '{key}' lost");
            }

            return result;
        }
        finally
        {
            _inFlight.TryRemove(id.ClientId, out _);
        }
    }
}
