namespace Storage.Shards;

/// <summary>A replica's state-machine snapshot as saved through Orleans grain storage; the log below <see cref="Index"/> is truncated.</summary>
[GenerateSerializer, Alias("Storage.ReplicaCheckpoint")]
public sealed class ReplicaCheckpoint
{
    [Id(0)] public long Index { get; set; }
    [Id(1)] public long Term { get; set; }
    [Id(2)] public long[] Voters { get; set; } = Array.Empty<long>();
    [Id(3)] public long[] Learners { get; set; } = Array.Empty<long>();
    [Id(4)] public byte[] Data { get; set; } = Array.Empty<byte>();
}
