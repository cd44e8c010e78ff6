namespace Storage.Directory;

/// <summary>How the first shard map is laid out (configuration section <c>Storage:Directory</c>).</summary>
public sealed class DirectoryOptions
{
    public int InitialShards { get; set; } = 8;

    public int ReplicationFactor { get; set; } = 3;

    /// <summary>Active silos needed before the first map is made (default: the replication factor).</summary>
    public int? InitialSilos { get; set; }

    public int RequiredSilos => InitialSilos ?? ReplicationFactor;
}
