namespace Storage.LocalCluster;

/// <summary>The local cluster could not start (or restart a silo); the message says why and what to do.</summary>
public sealed class LocalClusterException : Exception
{
    public LocalClusterException(string message) : base(message) { }

    public LocalClusterException(string message, Exception inner) : base(message, inner) { }
}
