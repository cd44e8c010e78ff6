namespace Storage.Persistence;

/// <summary>
/// PostgreSQL could not be reached or refused the connection (down, wrong host/port, unknown database,
/// authentication failure). The message names host, port, database and user plus the underlying
/// reason, and never the password, so it can go straight into logs and probe output.
/// </summary>
public sealed class DatabaseUnavailableException : Exception
{
    public DatabaseUnavailableException(string host, int port, string database, string reason, Exception inner)
        : base($"Cannot connect to PostgreSQL at host '{host}', port {port}, database '{database}': {reason}", inner)
    {
        Host = host;
        Port = port;
        Database = database;
        Reason = reason;
    }

    public string Host { get; }

    public int Port { get; }

    public string Database { get; }

    /// <summary>The underlying error, e.g. "Connection refused" or "database \"x\" does not exist".</summary>
    public string Reason { get; }
}
