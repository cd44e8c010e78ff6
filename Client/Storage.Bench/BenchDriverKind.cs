namespace Storage.Bench;

/// <summary>Which system a benchmark drives; all of them run through the same <see cref="BenchRunner"/> loop.</summary>
public enum BenchDriverKind
{
    /// <summary>This store, through <see cref="Storage.Client.StorageClient"/>.</summary>
    Store,

    /// <summary>An etcd cluster, through dotnet-etcd.</summary>
    Etcd,

    /// <summary>One PostgreSQL table (upsert, select by key), through Npgsql.</summary>
    Postgres,

    /// <summary>The plain Orleans way: one <see cref="Storage.Bench.Baseline.IPlainKeyGrain"/> per key, persisted with AdoNet grain storage.</summary>
    Orleans,
}
