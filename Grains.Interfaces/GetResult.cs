namespace Storage;

/// <summary>The result of a read. <see cref="Version"/> is 0 when the key does not exist.</summary>
[GenerateSerializer, Alias("Storage.GetResult")]
public sealed record GetResult(
    [property: Id(0)] bool Found,
    [property: Id(1)] byte[]? Value,
    [property: Id(2)] long Version)
{
    public static GetResult Missing { get; } = new(false, null, 0);
}
