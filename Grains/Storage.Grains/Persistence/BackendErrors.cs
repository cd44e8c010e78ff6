using Npgsql;

namespace Storage.Persistence;

/// <summary>
/// Recognises failures of the store's database (a driver error anywhere in the chain, a refused connection, a log
/// poisoned by an earlier failed write) and turns them into the typed, transient
/// <see cref="StorageBackendUnavailableException"/> that may cross the grain boundary: Npgsql's exception types
/// have no Orleans codec, and their text must not carry secrets to a client.
/// </summary>
internal static class BackendErrors
{
    /// <summary>True if <paramref name="exception"/> or one of its inner exceptions is a database failure.</summary>
    public static bool IsBackendFailure(Exception exception) => FindCause(exception) is not null;

    /// <summary>
    /// The typed error for a database failure: host, port and database from the failure itself (a refused
    /// connection names them) or else from <paramref name="connectionString"/>; the reason is the chain of driver
    /// messages with the connection string's password, if any, blanked out.
    /// </summary>
    public static StorageBackendUnavailableException ToUnavailable(Exception exception, string? connectionString)
    {
        var cause = FindCause(exception) ?? exception;
        var described = cause as DatabaseUnavailableException ?? PostgresConnections.Unavailable(connectionString ?? string.Empty, cause);
        return new StorageBackendUnavailableException(
            Redact(described.Host, connectionString),
            described.Port,
            Redact(described.Database, connectionString),
            Redact(described.Reason, connectionString));
    }

    /// <summary>
    /// <paramref name="text"/> with the password of <paramref name="connectionString"/> replaced by "***". Driver
    /// messages do not quote passwords, but an error text that goes to clients and logs gets this belt anyway.
    /// </summary>
    public static string Redact(string text, string? connectionString)
    {
        if (string.IsNullOrEmpty(connectionString) || string.IsNullOrEmpty(text))
        {
            return text;
        }

        string? password;
        try
        {
            password = new NpgsqlConnectionStringBuilder(connectionString).Password;
        }
        catch (ArgumentException)
        {
            return text; // a connection string we cannot parse never reached the database either
        }

        return string.IsNullOrEmpty(password) ? text : text.Replace(password, "***", StringComparison.Ordinal);
    }

    private static Exception? FindCause(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException or DatabaseUnavailableException or ReplicaLogPoisonedException)
            {
                return e;
            }
        }

        return null;
    }
}
