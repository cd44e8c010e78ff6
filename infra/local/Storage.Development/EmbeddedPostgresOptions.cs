namespace Storage.Development;

/// <summary>Where and how <see cref="EmbeddedPostgres"/> runs its server.</summary>
public sealed class EmbeddedPostgresOptions
{
    /// <summary>
    /// The data folder. Initialised (initdb) when missing or empty, reused otherwise — data survives restarts.
    /// The server log goes next to it, into the parent folder (see <see cref="LogFile"/>).
    /// </summary>
    public required string DataDirectory { get; init; }

    /// <summary>The loopback port to listen on; 0 picks a free one on every start.</summary>
    public int Port { get; init; }

    /// <summary>The database to create (if missing) and point <see cref="EmbeddedPostgres.ConnectionString"/> at.</summary>
    public string Database { get; init; } = "storage";

    /// <summary>A folder holding initdb, pg_ctl and postgres; null searches PATH, then /usr/lib/postgresql/*/bin.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>
    /// False trades crash safety for speed (fsync, synchronous_commit and full_page_writes off, initdb --no-sync):
    /// for throwaway test servers only.
    /// </summary>
    public bool Durable { get; init; } = true;

    /// <summary>The server log; null means "{parent of DataDirectory}/{name of DataDirectory}.log".</summary>
    public string? LogFile { get; init; }

    /// <summary>Extra server settings (postgres -c name=value), e.g. max_connections.</summary>
    public IDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>How long starting (and stopping) may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}
