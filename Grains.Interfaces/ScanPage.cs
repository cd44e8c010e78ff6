namespace Storage;

/// <summary>One page of a prefix scan, in key order (ordinal). Pass <see cref="ContinueAfter"/> to get the next page.</summary>
[GenerateSerializer, Alias("Storage.ScanPage")]
public sealed record ScanPage(
    [property: Id(0)] IReadOnlyList<KeyValue> Items,
    [property: Id(1)] string? ContinueAfter);
