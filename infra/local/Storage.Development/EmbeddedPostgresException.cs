namespace Storage.Development;

/// <summary>The embedded PostgreSQL could not be found, initialised, started or stopped; the message says why.</summary>
public sealed class EmbeddedPostgresException : Exception
{
    public EmbeddedPostgresException(string message) : base(message) { }

    public EmbeddedPostgresException(string message, Exception inner) : base(message, inner) { }
}
