namespace Storage.Directory;

/// <summary>What the directory persists through grain storage.</summary>
[GenerateSerializer, Alias("Storage.DirectoryState")]
public sealed class DirectoryState
{
    [Id(0)]
    public ShardMap? Map { get; set; }
}
