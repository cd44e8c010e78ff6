namespace Storage.Directory;

/// <summary>Replica <paramref name="ReplicaId"/> of shard <paramref name="ShardId"/> goes from silo <paramref name="From"/> to <paramref name="To"/> (silo names).</summary>
public sealed record PlannedMove(int ShardId, long ReplicaId, string From, string To);
