namespace Storage;

/// <summary>
/// Identifies one logical write for exactly-once application: a retry carries the same id and is
/// answered from the state machine's memory instead of being applied again.
/// Sequences of one client must increase.
/// </summary>
[GenerateSerializer, Alias("Storage.WriteId")]
public readonly record struct WriteId([property: Id(0)] Guid ClientId, [property: Id(1)] long Sequence);
