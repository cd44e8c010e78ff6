namespace Storage;

/// <summary>
/// The store's database (PostgreSQL) could not be reached or failed a request: down, restarting, refusing
/// connections, a connection lost mid-request. Transient: retry; a write's outcome is unknown, so retry it with the
/// same <see cref="WriteId"/> (the router and <c>StorageClient</c> do so within their budgets). The message names at
/// most host, port and database, never the connection string or its password.
/// </summary>
[GenerateSerializer, Alias("Storage.StorageBackendUnavailableException")]
public sealed class StorageBackendUnavailableException : StorageException
{
    public StorageBackendUnavailableException(string host, int port, string database, string reason)
        : base($"storage backend unavailable (PostgreSQL at host '{host}', port {port}, database '{database}'): {reason}; "
               + "a write may or may not have been applied: retrying it with the same WriteId is safe")
    {
        Host = host;
        Port = port;
        Database = database;
        Reason = reason;
    }

    [Id(0)] public string Host { get; }
    [Id(1)] public int Port { get; }
    [Id(2)] public string Database { get; }

    /// <summary>What failed, e.g. "terminating connection due to administrator command (SQLSTATE 57P01)".</summary>
    [Id(3)] public string Reason { get; }

    public override bool IsTransient => true;
}
