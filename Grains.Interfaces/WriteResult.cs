namespace Storage;

/// <summary>
/// The result of a write. <see cref="Version"/> is the key's version after the write
/// (0 after a delete). <see cref="Existed"/> tells whether the key existed before it.
/// </summary>
[GenerateSerializer, Alias("Storage.WriteResult")]
public sealed record WriteResult(
    [property: Id(0)] long Version,
    [property: Id(1)] bool Existed);
