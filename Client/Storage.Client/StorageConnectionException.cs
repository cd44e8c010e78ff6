namespace Storage.Client;

/// <summary>
/// <see cref="StorageClient.ConnectAsync"/> could not reach the cluster: the database or gateways are unreachable,
/// no silo of the cluster id is alive, or the connect timeout passed. The message says which, and what was tried.
/// </summary>
public sealed class StorageConnectionException : StorageException
{
    /// <summary>Creates the exception with a message that names the cluster and what was tried.</summary>
    /// <param name="message">What failed, in one line.</param>
    public StorageConnectionException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the failure underneath.</summary>
    /// <param name="message">What failed, in one line.</param>
    /// <param name="inner">The error from the database, the network or Orleans.</param>
    public StorageConnectionException(string message, Exception inner) : base(message, inner) { }
}
