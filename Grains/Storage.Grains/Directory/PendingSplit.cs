namespace Storage.Directory;

/// <summary>
/// A split in progress: shard <see cref="ShardId"/> splits by the encoded <see cref="Command"/> (a
/// <see cref="Storage.StateMachine.SplitCommand"/>) into the map <see cref="Target"/>, which the directory publishes
/// once the parent applied the command.
/// </summary>
[GenerateSerializer, Alias("Storage.PendingSplit")]
public sealed record PendingSplit(
    [property: Id(0)] int ShardId,
    [property: Id(1)] ulong SplitAt,
    [property: Id(2)] byte[] Command,
    [property: Id(3)] ShardMap Target,
    [property: Id(4)] DateTime StartedAt);
