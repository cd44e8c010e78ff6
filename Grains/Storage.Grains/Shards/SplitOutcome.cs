namespace Storage.Shards;

/// <summary>A split applied by the parent shard at log index <see cref="Index"/>; <see cref="AlreadySplit"/> when an earlier proposal of it had done it.</summary>
[GenerateSerializer, Alias("Storage.SplitOutcome")]
public sealed record SplitOutcome([property: Id(0)] bool AlreadySplit, [property: Id(1)] long Index);
