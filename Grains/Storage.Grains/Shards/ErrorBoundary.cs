using System.Collections;
using Storage.Persistence;

namespace Storage.Shards;

/// <summary>
/// What may leave the store's grains (<see cref="IStore"/>, <see cref="IShardReplicaGrain"/>,
/// <see cref="Directory.IDirectoryGrain"/>) as an error: a <see cref="StorageException"/> whose whole chain Orleans can
/// serialize. Anything else is translated here, once, for the incoming call filter (<see cref="ErrorBoundaryFilter"/>),
/// for replica activation (whose failures reach callers without passing any call filter) and for the inner error the
/// router attaches to <see cref="ShardUnavailableException"/>.
/// </summary>
internal static class ErrorBoundary
{
    /// <summary>
    /// <paramref name="exception"/> itself if it is a wire-safe <see cref="StorageException"/>; otherwise a database
    /// failure becomes <see cref="StorageBackendUnavailableException"/> (transient), an Orleans runtime failure,
    /// timeout or cancellation inside the cluster becomes <see cref="ShardUnavailableException"/> (transient, as the
    /// router treats them), and anything else <see cref="StorageInternalException"/> naming its type and message.
    /// </summary>
    public static Exception Translate(Exception exception, string? connectionString)
    {
        if (exception is StorageException && IsWireSafe(exception))
        {
            return exception;
        }

        if (exception is ShardUnavailableException unavailable)
        {
            // The router's "budget spent" keeps its type; only its inner error is made safe.
            var message = BackendErrors.Redact(unavailable.Message, connectionString);
            return unavailable.InnerException is { } inner
                ? new ShardUnavailableException(message, WireSafe(inner, connectionString))
                : new ShardUnavailableException(message);
        }

        if (BackendErrors.IsBackendFailure(exception))
        {
            return BackendErrors.ToUnavailable(exception, connectionString);
        }

        if (exception is not StorageException && TransientErrors.IsTransientInCluster(exception))
        {
            var reason = BackendErrors.Redact(
                $"the cluster did not answer ({exception.GetType().Name}: {exception.Message}); a write may or may not have been applied: retrying it with the same WriteId is safe",
                connectionString);
            return IsWireSafe(exception) ? new ShardUnavailableException(reason, exception) : new ShardUnavailableException(reason);
        }

        return new StorageInternalException(
            exception.GetType().FullName ?? exception.GetType().Name,
            BackendErrors.Redact(exception.Message, connectionString));
    }

    /// <summary><paramref name="exception"/> if Orleans can serialize it as it is, else its translation.</summary>
    public static Exception WireSafe(Exception exception, string? connectionString) =>
        IsWireSafe(exception) ? exception : Translate(exception, connectionString);

    /// <summary>
    /// True if every exception in the chain has an Orleans codec: the store's own types (each is
    /// <c>[GenerateSerializer]</c>), Orleans' runtime exceptions, and .NET's (System, Microsoft) that Orleans'
    /// exception codec accepts by namespace; with plain values in <see cref="Exception.Data"/>.
    /// </summary>
    public static bool IsWireSafe(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            var ns = e.GetType().Namespace ?? string.Empty;
            var knownType = e is StorageException
                || ns.StartsWith("Orleans", StringComparison.Ordinal)
                || ns.StartsWith("System", StringComparison.Ordinal)
                || ns.StartsWith("Microsoft", StringComparison.Ordinal);
            if (!knownType || e is AggregateException || !HasPlainData(e))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasPlainData(Exception e)
    {
        foreach (DictionaryEntry entry in e.Data)
        {
            if (entry.Key is not string || entry.Value is not (null or string or bool or int or long or double))
            {
                return false;
            }
        }

        return true;
    }
}
