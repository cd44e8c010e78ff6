using Storage.Raft;

namespace Storage.Persistence;

/// <summary>What <see cref="IRaftLogStore.LoadAsync"/> found for a replica.</summary>
/// <param name="ReplicaId">The replica.</param>
/// <param name="HardState">The last stored hard state, or null if none was ever stored.</param>
/// <param name="Entries">The stored entries above the requested index, in ascending index order.</param>
public sealed record StoredReplicaLog(string ReplicaId, HardState? HardState, IReadOnlyList<Entry> Entries);
