namespace Storage.Directory;

/// <summary>
/// What the directory persists through grain storage: the map, and the placement work it has decided on — written
/// before any of it is acted on, so that a new activation of the directory carries on where the last one stopped.
/// </summary>
[GenerateSerializer, Alias("Storage.DirectoryState")]
public sealed class DirectoryState
{
    [Id(0)]
    public ShardMap? Map { get; set; }

    /// <summary>Moves made by a map version and not yet seen finished.</summary>
    [Id(1)]
    public List<ReplicaMove> Moves { get; set; } = new();

    /// <summary>Silos asked to leave: they get nothing and their replicas and leaders move off.</summary>
    [Id(2)]
    public List<SiloDrain> Drains { get; set; } = new();

    /// <summary>
    /// A split decided and not yet published: persisted before the parent's leader is asked to propose it, so that a
    /// restarted directory proposes it again (idempotent) and publishes its map. At most one at a time.
    /// </summary>
    [Id(3)]
    public PendingSplit? PendingSplit { get; set; }

    /// <summary>Raft membership changes in progress (replacements, replication-factor changes), at most one per shard.</summary>
    [Id(4)]
    public List<MembershipChange> MembershipChanges { get; set; } = new();

    /// <summary>Moves finished since the map was made (ids 3 and 4 are the pending split and membership change).</summary>
    [Id(5)]
    public long MovesMade { get; set; }

    /// <summary>Silos absent longer than the grace period, whose replicas were placed elsewhere; removed when they return.</summary>
    [Id(6)]
    public List<string> GivenUp { get; set; } = new();
}
