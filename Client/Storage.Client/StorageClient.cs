using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Storage.Client;

/// <summary>
/// The app-facing facade over the store's <see cref="IStore"/> grain: connects an Orleans client to the cluster,
/// retries transient failures within <see cref="StorageClientOptions.RetryBudget"/>, and makes every write
/// exactly-once by giving it a <see cref="WriteId"/> from a pool of client sessions (a retry reuses the id, so
/// the store answers it instead of applying it again). Thread-safe: share one instance across the app.
/// </summary>
/// <remarks>
/// Errors are typed: <see cref="InvalidKeyException"/>, <see cref="ValueTooLargeException"/>,
/// <see cref="InvalidRequestException"/> and <see cref="VersionConflictException"/> are definite (nothing was
/// applied) and never retried; transient store errors (<see cref="StorageException.IsTransient"/>:
/// <see cref="ShardUnavailableException"/>, <see cref="StorageBackendUnavailableException"/>) and Orleans connection
/// or timeout errors are retried and, once the budget is spent, reported (a store error as
/// <see cref="ShardUnavailableException"/>, an Orleans one as it is) — for a write that means its outcome is unknown.
/// <see cref="StorageInternalException"/> (an unexpected server error) is not retried.
/// </remarks>
public sealed partial class StorageClient : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    // Idle client ids kept for reuse; more concurrent writers than this simply get fresh ids.
    private const int MaxIdleSessions = 1024;

    private readonly IHost _host;
    private readonly IStore _store;
    private readonly TimeSpan _retryBudget;
    private readonly ILogger _logger;
    private readonly WriteSessionPool _sessions = new(MaxIdleSessions);
    private int _disposed;

    private StorageClient(IHost host, IClusterClient cluster, TimeSpan retryBudget, Func<IStore, IStore>? decorate)
    {
        _host = host;
        ClusterClient = cluster;
        _retryBudget = retryBudget;
        _logger = host.Services.GetRequiredService<ILogger<StorageClient>>();
        var grain = cluster.GetGrain<IStore>(0);
        _store = decorate is null ? grain : decorate(grain);
    }

    /// <summary>
    /// The underlying Orleans client, for advanced use (calling <see cref="IStore"/> or other grains directly).
    /// Writes made through it do not get the client's retries or its exactly-once session pool.
    /// </summary>
    public IClusterClient ClusterClient { get; }

    /// <summary>How many client ids (write sessions) this client has created so far; grows with write concurrency and with writes whose outcome stayed unknown.</summary>
    public long SessionsCreated => _sessions.Created;

    /// <summary>
    /// Connects to the cluster described by <paramref name="options"/> and returns a ready client.
    /// </summary>
    /// <param name="options">Where the cluster is (membership connection string or gateways), its ids, and the timeouts.</param>
    /// <param name="ct">Cancels the attempt.</param>
    /// <returns>A connected client; dispose it to close the connection.</returns>
    /// <exception cref="ArgumentException">The options are invalid: neither or both of a connection string and gateways, a malformed gateway, an empty id, a non-positive timeout.</exception>
    /// <exception cref="StorageConnectionException">No gateway of the cluster could be reached within <see cref="StorageClientOptions.ConnectTimeout"/>.</exception>
    public static Task<StorageClient> ConnectAsync(StorageClientOptions options, CancellationToken ct = default) =>
        ConnectCoreAsync(options, decorate: null, ct);

    /// <summary>Connects, with an optional wrapper around the <see cref="IStore"/> reference (tests inject faults with it).</summary>
    internal static async Task<StorageClient> ConnectCoreAsync(StorageClientOptions options, Func<IStore, IStore>? decorate, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var target = Describe(options);
        var started = Stopwatch.GetTimestamp();

        System.Net.IPEndPoint[]? gateways = null;
        if (options.Gateways.Count > 0)
        {
            gateways = new System.Net.IPEndPoint[options.Gateways.Count];
            for (var i = 0; i < gateways.Length; i++)
            {
                gateways[i] = await GatewayAddress.Parse(options.Gateways[i]).ResolveAsync(ct).ConfigureAwait(false);
            }
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // A library must not pick up the process's appsettings, environment or command line.
            DisableDefaults = true,
            ApplicationName = "Storage.Client",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        options.ConfigureLogging?.Invoke(builder.Logging);

        var connectDeadline = started + (long)(options.ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
        var lastConnectError = new StrongBox<Exception?>();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ResponseTimeout);
            if (gateways is null)
            {
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = options.ConnectionString;
                });
            }
            else
            {
                client.UseStaticClustering(gateways);
            }

            // Orleans gives up after the first failed attempt unless told otherwise; keep trying until the
            // connect timeout so that a client started together with the silos still connects.
            client.UseConnectionRetryFilter(async (exception, token) =>
            {
                lastConnectError.Value = exception;
                var delay = TimeSpan.FromMilliseconds(250);
                if (Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency) >= connectDeadline)
                {
                    return false;
                }

                await Task.Delay(delay, token).ConfigureAwait(false);
                return true;
            });
            options.ConfigureOrleansClient?.Invoke(client);
        });

        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await StopQuietlyAsync(host).ConfigureAwait(false);
            var cause = e is OperationCanceledException && lastConnectError.Value is { } last ? last : e;
            var reason = e is OperationCanceledException && lastConnectError.Value is null
                ? "timed out"
                : ConnectFailureReason(Innermost(cause), options);
            throw new StorageConnectionException(
                $"cannot connect to {target} within {options.ConnectTimeout.TotalSeconds:0.#} s: {reason}", cause);
        }
        catch
        {
            await StopQuietlyAsync(host).ConfigureAwait(false);
            throw;
        }

        var client = new StorageClient(host, host.Services.GetRequiredService<IClusterClient>(), options.RetryBudget, decorate);
        client.LogConnected(target, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return client;
    }

    /// <summary>Reads a key.</summary>
    /// <param name="key">The key (non-empty, at most the store's maximum key length in UTF-8 bytes).</param>
    /// <param name="consistency">How fresh the read must be; <see cref="ReadConsistency.Linearizable"/> by default.</param>
    /// <param name="ct">Cancels waiting (and further retries).</param>
    /// <returns>The value and version; <see cref="GetResult.Found"/> is false (version 0) when the key does not exist.</returns>
    /// <exception cref="InvalidKeyException">The key is empty or too long.</exception>
    /// <exception cref="ShardUnavailableException">The key's shard did not answer within the retry budget.</exception>
    public Task<GetResult> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return WithRetriesAsync("get", key, s => s.GetAsync(key, consistency), ct);
    }

    /// <summary>Writes a key unconditionally, exactly once.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value (at most the store's maximum value size); the array must not change while the call runs.</param>
    /// <param name="ct">Cancels waiting; a write cancelled in flight may still be applied.</param>
    /// <returns>The key's new version, and whether it existed before.</returns>
    /// <exception cref="InvalidKeyException">The key is empty or too long; nothing was applied.</exception>
    /// <exception cref="ValueTooLargeException">The value is too large; nothing was applied.</exception>
    /// <exception cref="ShardUnavailableException">No definite answer within the retry budget: the write may or may not have been applied.</exception>
    public Task<WriteResult> PutAsync(string key, byte[] value, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return WriteAsync("put", key, (s, id) => s.PutAsync(key, value, id), ct);
    }

    /// <summary>Writes a key unconditionally with a string value stored as UTF-8, exactly once.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, stored as its UTF-8 bytes.</param>
    /// <param name="ct">Cancels waiting; a write cancelled in flight may still be applied.</param>
    /// <returns>The key's new version, and whether it existed before.</returns>
    /// <exception cref="InvalidKeyException">The key is empty or too long; nothing was applied.</exception>
    /// <exception cref="ValueTooLargeException">The value is too large; nothing was applied.</exception>
    /// <exception cref="ShardUnavailableException">No definite answer within the retry budget: the write may or may not have been applied.</exception>
    public Task<WriteResult> PutAsync(string key, string value, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return PutAsync(key, Encoding.UTF8.GetBytes(value), ct);
    }

    /// <summary>Deletes a key, exactly once. Deleting a missing key succeeds with <see cref="WriteResult.Existed"/> false.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ct">Cancels waiting; a delete cancelled in flight may still be applied.</param>
    /// <returns>Version 0, and whether the key existed before.</returns>
    /// <exception cref="InvalidKeyException">The key is empty or too long; nothing was applied.</exception>
    /// <exception cref="ShardUnavailableException">No definite answer within the retry budget: the delete may or may not have been applied.</exception>
    public Task<WriteResult> DeleteAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return WriteAsync("delete", key, (s, id) => s.DeleteAsync(key, id), ct);
    }

    /// <summary>Writes a key only if its current version is <paramref name="expectedVersion"/>, exactly once.</summary>
    /// <param name="key">The key.</param>
    /// <param name="expectedVersion">The version the key must have; 0 means the key must not exist.</param>
    /// <param name="value">The new value.</param>
    /// <param name="ct">Cancels waiting; a write cancelled in flight may still be applied.</param>
    /// <returns>The key's new version.</returns>
    /// <exception cref="VersionConflictException">The key has another version (see <see cref="VersionConflictException.Actual"/>); nothing was applied.</exception>
    /// <exception cref="InvalidRequestException">The expected version is negative; nothing was applied.</exception>
    /// <exception cref="InvalidKeyException">The key is empty or too long; nothing was applied.</exception>
    /// <exception cref="ValueTooLargeException">The value is too large; nothing was applied.</exception>
    /// <exception cref="ShardUnavailableException">No definite answer within the retry budget: the write may or may not have been applied.</exception>
    public Task<WriteResult> CompareAndSwapAsync(string key, long expectedVersion, byte[] value, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return WriteAsync("cas", key, (s, id) => s.CompareAndSwapAsync(key, expectedVersion, value, id), ct);
    }

    /// <summary>Reads one page of the keys starting with <paramref name="prefix"/>, across all shards, in ordinal key order.</summary>
    /// <param name="prefix">The key prefix; empty scans every key.</param>
    /// <param name="continueAfter">Start after this key (the previous page's <see cref="ScanPage.ContinueAfter"/>); null for the first page.</param>
    /// <param name="limit">The most items to return (1 to the store's maximum page size).</param>
    /// <param name="consistency">How fresh the page must be.</param>
    /// <param name="ct">Cancels waiting (and further retries).</param>
    /// <returns>The page; its <see cref="ScanPage.ContinueAfter"/> is null when there is nothing more.</returns>
    /// <exception cref="InvalidRequestException">The limit is out of range.</exception>
    /// <exception cref="ShardUnavailableException">A shard did not answer within the retry budget.</exception>
    public Task<ScanPage> ScanAsync(string prefix, string? continueAfter = null, int limit = 1000, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return WithRetriesAsync("scan", prefix, s => s.ScanAsync(prefix, continueAfter, limit, consistency), ct);
    }

    /// <summary>
    /// Streams every key starting with <paramref name="prefix"/> in ordinal key order, fetching
    /// <paramref name="pageSize"/> at a time. Each page is read at <paramref name="consistency"/> on its own:
    /// the whole scan is not one snapshot, so keys written meanwhile may or may not appear.
    /// </summary>
    /// <param name="prefix">The key prefix; empty scans every key.</param>
    /// <param name="pageSize">Items per round trip (1 to the store's maximum page size).</param>
    /// <param name="consistency">How fresh each page must be.</param>
    /// <param name="ct">Stops the enumeration.</param>
    /// <returns>The items, page after page.</returns>
    /// <exception cref="InvalidRequestException">The page size is out of range.</exception>
    /// <exception cref="ShardUnavailableException">A shard did not answer within the retry budget.</exception>
    public async IAsyncEnumerable<KeyValue> ScanAllAsync(string prefix, int pageSize = 1000, ReadConsistency consistency = ReadConsistency.Linearizable, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? after = null;
        do
        {
            var page = await ScanAsync(prefix, after, pageSize, consistency, ct).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            after = page.ContinueAfter;
        }
        while (after is not null);
    }

    /// <summary>The cluster at a glance: silos with region, zone and state, and every shard's leader and replicas with their commit and applied indexes.</summary>
    /// <param name="ct">Cancels waiting (and further retries).</param>
    /// <returns>The status as the gateway silo sees it.</returns>
    public Task<ClusterStatus> GetStatusAsync(CancellationToken ct = default) =>
        WithRetriesAsync("status", string.Empty, s => s.GetStatusAsync(), ct);

    /// <summary>
    /// Operators: asks the cluster to move every replica and leader off the silo named <paramref name="silo"/> (its
    /// <c>Storage:SiloName</c>), e.g. before it is removed for good. Returns once the drain is recorded; the moves
    /// follow in bounded steps (watch <see cref="GetStatusAsync"/>: <see cref="ClusterStatus.Moves"/> and
    /// <see cref="ClusterStatus.Draining"/>). The silo gets nothing new until <see cref="UndrainAsync"/>. Retried
    /// like a read: draining a drained silo changes nothing.
    /// </summary>
    /// <param name="silo">The silo's name, as <c>storage status</c> shows it.</param>
    /// <param name="ct">Cancels waiting (and further retries).</param>
    /// <returns>A task that completes once the drain is recorded.</returns>
    /// <exception cref="InvalidRequestException">The cluster knows no silo of that name; nothing changed.</exception>
    /// <exception cref="ShardUnavailableException">No answer within the retry budget: the drain may or may not be recorded.</exception>
    public Task DrainAsync(string silo, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return WithRetriesAsync("drain", silo, async s =>
        {
            await s.DrainAsync(silo).ConfigureAwait(false);
            return true;
        }, ct);
    }

    /// <summary>
    /// Operators: ends a drain of the silo named <paramref name="silo"/>; it is filled again gradually. Undraining a
    /// silo that is not drained changes nothing, so it is retried like a read.
    /// </summary>
    /// <param name="silo">The silo's name.</param>
    /// <param name="ct">Cancels waiting (and further retries).</param>
    /// <returns>A task that completes once the drain is removed.</returns>
    /// <exception cref="InvalidRequestException">The cluster knows no silo of that name; nothing changed.</exception>
    /// <exception cref="ShardUnavailableException">No answer within the retry budget.</exception>
    public Task UndrainAsync(string silo, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return WithRetriesAsync("undrain", silo, async s =>
        {
            await s.UndrainAsync(silo).ConfigureAwait(false);
            return true;
        }, ct);
    }

    /// <summary>
    /// Operators: splits shard <paramref name="shardId"/> at hash <paramref name="splitAt"/> (default: the hash that
    /// halves its keys) and returns the shard map version that has the new shard. Not retried: a split whose answer
    /// was lost may have happened, and asking again would split one of the halves; after a transient error, look at
    /// <see cref="GetStatusAsync"/> before asking again.
    /// </summary>
    /// <param name="shardId">The shard to split.</param>
    /// <param name="splitAt">The first hash of the new shard; null lets the cluster pick the one that halves the keys.</param>
    /// <param name="ct">Cancels waiting; a split cancelled in flight may still happen.</param>
    /// <returns>The shard map version with the new shard.</returns>
    /// <exception cref="InvalidRequestException">Unknown shard, or a split point outside the shard's range; nothing changed.</exception>
    public async Task<long> SplitAsync(int shardId, ulong? splitAt = null, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return await _store.SplitAsync(shardId, splitAt).WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Operators: replaces replica <paramref name="replicaId"/> of shard <paramref name="shardId"/> with a new replica on
    /// the silo named <paramref name="silo"/>, through Raft membership changes (the new one joins as a learner, catches
    /// up and is promoted; then the old one is removed). Returns the new replica's id once the change is recorded; the
    /// steps follow (watch <see cref="GetStatusAsync"/>: the change is listed among the moves). Asking again for the
    /// same replacement returns the same id, so it is retried like a read.
    /// </summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="replicaId">The replica to replace.</param>
    /// <param name="silo">The name of the silo for the new replica.</param>
    /// <param name="ct">Cancels waiting (and further retries).</param>
    /// <returns>The new replica's id.</returns>
    /// <exception cref="InvalidRequestException">Unknown shard or replica; an unknown, inactive or draining silo; a silo that already holds a replica of the shard; another change of the shard in progress. Nothing changed.</exception>
    /// <exception cref="ShardUnavailableException">No answer within the retry budget: the change may or may not be recorded (asking again is safe).</exception>
    public Task<long> ReplaceReplicaAsync(int shardId, long replicaId, string silo, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return WithRetriesAsync("replace", silo, s => s.ReplaceReplicaAsync(shardId, replicaId, silo), ct);
    }

    /// <summary>
    /// Whether an error is transient, i.e. worth retrying: an unavailable shard, a lost or busy gateway, a rejected
    /// message or a timeout. For a write, such an error means its outcome is unknown.
    /// </summary>
    /// <param name="exception">The error a call threw.</param>
    /// <returns>True for transient errors; false for definite ones (bad input, version conflict) and anything unrecognised.</returns>
    public static bool IsTransient(Exception exception) => TransientErrors.IsTransient(exception);

    /// <summary>Closes the connection to the cluster. Calls still running fail; a write among them may or may not have been applied.</summary>
    /// <returns>A task that completes when the client has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await StopQuietlyAsync(_host).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one write under a leased session, retrying transient failures with the same <see cref="WriteId"/>.</summary>
    private async Task<WriteResult> WriteAsync(string operation, string key, Func<IStore, WriteId, Task<WriteResult>> call, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var session = _sessions.Lease();
        var id = session.Next();
        var definite = false;
        try
        {
            var result = await WithRetriesAsync(operation, key, s => call(s, id), ct).ConfigureAwait(false);
            definite = true;
            return result;
        }
        catch (StorageException e) when (IsDefinite(e))
        {
            definite = true;
            throw;
        }
        finally
        {
            if (definite)
            {
                _sessions.Return(session);
            }
            else
            {
                // The write may still be applied later (or already was); reusing this id could only confuse the
                // store's dedup, and a fresh Guid costs nothing.
                LogSessionDropped(operation, key, id.ClientId, id.Sequence);
            }
        }
    }

    private async Task<T> WithRetriesAsync<T>(string operation, string key, Func<IStore, Task<T>> call, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var started = Stopwatch.GetTimestamp();
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                return await call(_store).WaitAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && !ct.IsCancellationRequested)
            {
                var left = _retryBudget - Stopwatch.GetElapsedTime(started);
                if (left <= delay)
                {
                    LogGaveUp(operation, key, attempt, e.GetType().Name, OneLine(e.Message));
                    if (e is StorageException and not ShardUnavailableException)
                    {
                        // A transient store error (e.g. its database unavailable) that outlasted the budget reads as
                        // every other spent budget does: outcome unknown, retry with the same WriteId is safe.
                        throw new ShardUnavailableException(
                            $"no definite answer within the client's retry budget of {_retryBudget.TotalSeconds:0.#} s ({attempt} attempts; last: {e.Message}); " +
                            "a write may or may not have been applied: retrying it with the same WriteId is safe",
                            e);
                    }

                    throw;
                }

                LogRetrying(operation, key, attempt, e.GetType().Name, OneLine(e.Message));
                // Jitter keeps many writers that lost the same gateway from retrying in lockstep.
                var pause = delay * (0.5 + (Random.Shared.NextDouble() / 2));
                await Task.Delay(pause, ct).ConfigureAwait(false);
                delay = delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2;
            }
        }
    }

    private static bool IsDefinite(StorageException e) =>
        e is VersionConflictException or InvalidKeyException or ValueTooLargeException or InvalidRequestException;

    private static string Describe(StorageClientOptions options)
    {
        var ids = $"cluster '{options.ClusterId}' (service '{options.ServiceId}')";
        if (options.Gateways.Count > 0)
        {
            return $"{ids} via gateways {string.Join(", ", options.Gateways)}";
        }

        // Name the database without the password.
        var cs = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        return $"{ids} via PostgreSQL membership at {cs.Host}:{cs.Port}/{cs.Database}";
    }

    private static string ConnectFailureReason(Exception e, StorageClientOptions options)
    {
        var message = OneLine(e.Message);
        if (options.Gateways.Count == 0 && message.StartsWith("Could not find any gateway", StringComparison.Ordinal))
        {
            // Orleans names its provider class; say what it means for this cluster instead.
            return $"the membership table lists no live gateway of cluster '{options.ClusterId}' (is a silo running, and are the cluster and service ids right?)";
        }

        // Orleans words a refused gateway as "... will retry after 496ms"; we are not retrying any more.
        var retry = message.IndexOf(", will retry after", StringComparison.Ordinal);
        return retry > 0 ? $"no gateway accepted a connection ({message[..retry]})" : message;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null && e is AggregateException or OrleansException or OperationCanceledException)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static async Task StopQuietlyAsync(IHost host)
    {
        try
        {
            using var stop = new CancellationTokenSource(StopTimeout);
            await host.StopAsync(stop.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Stopping a client that never connected, or whose gateways are gone, may fail; nothing to recover.
        }

        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            host.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to {Target} in {Milliseconds:0} ms")]
    private partial void LogConnected(string target, double milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Operation} '{Key}' attempt {Attempt} failed with {Error}: {Reason}; retrying")]
    private partial void LogRetrying(string operation, string key, int attempt, string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Operation} '{Key}' gave up after {Attempt} attempts, last {Error}: {Reason}")]
    private partial void LogGaveUp(string operation, string key, int attempt, string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Operation} '{Key}' ended with an unknown outcome; client id {ClientId} (last sequence {Sequence}) is retired")]
    private partial void LogSessionDropped(string operation, string key, Guid clientId, long sequence);
}
