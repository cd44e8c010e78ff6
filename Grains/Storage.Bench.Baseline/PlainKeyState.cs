namespace Storage.Bench.Baseline;

/// <summary>What <see cref="PlainKeyGrain"/> persists.</summary>
/// <remarks>The alias is the type's original full name, kept so that its id does not change with the namespace.</remarks>
[GenerateSerializer, Alias("Storage.Baseline.PlainKeyState")]
public sealed class PlainKeyState
{
    [Id(0)]
    public byte[]? Value { get; set; }

    [Id(1)]
    public long Version { get; set; }
}
