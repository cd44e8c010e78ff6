namespace Storage;

/// <summary>A key, its value and its version (the log index of the write that produced it).</summary>
[GenerateSerializer, Alias("Storage.KeyValue")]
public sealed record KeyValue(
    [property: Id(0)] string Key,
    [property: Id(1)] byte[] Value,
    [property: Id(2)] long Version);
