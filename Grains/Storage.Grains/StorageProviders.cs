namespace Storage;

/// <summary>Names of the Orleans providers the server side expects the host to configure.</summary>
public static class StorageProviders
{
    /// <summary>Grain storage (AdoNet, PostgreSQL) for replica checkpoints and the shard map.</summary>
    public const string Checkpoints = "checkpoints";
}
