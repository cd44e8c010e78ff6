namespace Storage;

/// <summary>
/// Identifies one logical write for exactly-once application: a retry carries the same id and is
/// answered from the state machine's memory instead of being applied again. A client id has at most one
/// write in flight and its sequences increase (a lower sequence than one already applied is refused as
/// stale); issue concurrent writes under different client ids — <c>StorageClient</c> keeps a pool of them.
/// </summary>
[GenerateSerializer, Alias("Storage.WriteId")]
public readonly record struct WriteId([property: Id(0)] Guid ClientId, [property: Id(1)] long Sequence);
