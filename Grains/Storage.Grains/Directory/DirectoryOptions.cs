namespace Storage.Directory;

/// <summary>How the first shard map is laid out (configuration section <c>Storage:Directory</c>).</summary>
public sealed class DirectoryOptions
{
    public int InitialShards { get; set; } = 8;

    public int ReplicationFactor { get; set; } = 3;

    /// <summary>Active silos needed before the first map is made (default: the replication factor).</summary>
    public int? InitialSilos { get; set; }

    public int RequiredSilos => InitialSilos ?? ReplicationFactor;

    public void Validate()
    {
        if (InitialShards is < 1 or > 4096)
        {
            throw new ArgumentException($"Storage:Directory:InitialShards must be between 1 and 4096 (got {InitialShards})");
        }

        if (ReplicationFactor is < 1 or > 7)
        {
            throw new ArgumentException($"Storage:Directory:ReplicationFactor must be between 1 and 7 (got {ReplicationFactor})");
        }

        if (RequiredSilos < 1)
        {
            throw new ArgumentException($"Storage:Directory:InitialSilos must be at least 1 (got {RequiredSilos})");
        }
    }
}
