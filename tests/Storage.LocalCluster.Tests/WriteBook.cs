using System.Collections.Concurrent;
using System.Text;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// The client's record of its writes: acknowledged ones (key → version and value), ones that failed with a typed
/// error (outcome unknown: kept with their WriteId to retry), and any failure that was not a typed error (a bug).
/// Every write has its own client id, so writes never wait on one another's sequence.
/// </summary>
internal sealed class WriteBook
{
    private readonly ConcurrentDictionary<string, (long Version, string Value)> _acknowledged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UnknownWrite> _unknown = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<Exception> _errors = [];
    private readonly ConcurrentBag<Exception> _untyped = [];

    public IReadOnlyDictionary<string, (long Version, string Value)> Acknowledged => _acknowledged;

    public int AcknowledgedCount => _acknowledged.Count;

    /// <summary>Writes that failed with a typed error: maybe applied, maybe not.</summary>
    public IReadOnlyCollection<UnknownWrite> Unknown => _unknown.Values.ToList();

    public IReadOnlyCollection<Exception> Errors => _errors;

    /// <summary>Failures that were not the store's or Orleans' typed errors.</summary>
    public IReadOnlyCollection<Exception> Untyped => _untyped;

    public Exception? LastError { get; private set; }

    /// <summary>
    /// Errors a client can see when a silo dies: the store's own (e.g. ShardUnavailable after its retry budget),
    /// Orleans' (a gateway or silo gone: SiloUnavailable, message rejections) and response timeouts.
    /// </summary>
    public static bool IsTyped(Exception e) => e is StorageException or OrleansException or TimeoutException;

    /// <summary>Puts <paramref name="value"/> under a fresh WriteId; true if acknowledged.</summary>
    public async Task<bool> PutAsync(IStore store, string key, string value)
    {
        var write = new UnknownWrite(key, value, new WriteId(Guid.NewGuid(), 1));
        try
        {
            var result = await store.PutAsync(key, Encoding.UTF8.GetBytes(value), write.Id);
            _acknowledged[key] = (result.Version, value);
            _unknown.TryRemove(key, out _);
            return true;
        }
        catch (Exception e) when (IsTyped(e))
        {
            LastError = e;
            _errors.Add(e);
            _unknown[key] = write;
            return false;
        }
        catch (Exception e)
        {
            LastError = e;
            _untyped.Add(e);
            return false;
        }
    }

    /// <summary>Retries an unknown-outcome write with its own WriteId until acknowledged; the answer is then its one outcome.</summary>
    public async Task RetryUntilAcknowledgedAsync(IStore store, UnknownWrite write, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                var result = await store.PutAsync(write.Key, Encoding.UTF8.GetBytes(write.Value), write.Id);
                _acknowledged[write.Key] = (result.Version, write.Value);
                _unknown.TryRemove(write.Key, out _);
                return;
            }
            catch (Exception e) when (IsTyped(e) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}

/// <summary>A write whose outcome the client does not know, with the WriteId that makes retrying it safe.</summary>
internal sealed record UnknownWrite(string Key, string Value, WriteId Id);
