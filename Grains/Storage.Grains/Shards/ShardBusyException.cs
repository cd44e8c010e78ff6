namespace Storage.Shards;

/// <summary>The replica could not finish in time (no quorum, election under way). For a write the outcome is unknown.</summary>
[GenerateSerializer, Alias("Storage.ShardBusyException")]
public sealed class ShardBusyException : StorageException
{
    public ShardBusyException(string message) : base(message) { }
}
