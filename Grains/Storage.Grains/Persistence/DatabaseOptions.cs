namespace Storage.Persistence;

/// <summary>
/// How a silo uses its database (configuration section <c>Storage:Database</c>; the connection string itself is
/// <see cref="StorageOptions.ConnectionString"/>).
/// </summary>
public sealed class DatabaseOptions
{
    /// <summary>
    /// The most connections the silo's one data source opens (the log store, the log writer and the schema installer
    /// share it; callers beyond it wait for a free connection). Several silos share one PostgreSQL, whose
    /// <c>max_connections</c> (100 by default) bounds them all: with thousands of replicas per silo an unbounded pool
    /// exhausted it. Overrides a <c>Maximum Pool Size</c> in the connection string. Orleans' AdoNet membership and
    /// checkpoint storage open their own connections from the connection string, in a pool of their own
    /// (Npgsql's default 100 unless the connection string sets it).
    /// </summary>
    public int MaxPoolSize { get; set; } = 20;
}
