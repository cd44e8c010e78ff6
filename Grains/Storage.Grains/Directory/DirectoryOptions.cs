namespace Storage.Directory;

/// <summary>
/// How the first shard map is laid out and how the rebalancer keeps it following the silos (configuration section
/// <c>Storage:Directory</c>).
/// </summary>
public sealed class DirectoryOptions
{
    public int InitialShards { get; set; } = 8;

    public int ReplicationFactor { get; set; } = 3;

    /// <summary>Active silos needed before the first map is made (default: the replication factor).</summary>
    public int? InitialSilos { get; set; }

    public int RequiredSilos => InitialSilos ?? ReplicationFactor;

    /// <summary>Time between rebalancer passes (observe membership, finish moves, plan the next step).</summary>
    public TimeSpan RebalancePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a silo may be absent (dead, restarting) before its replicas are placed elsewhere for good. Until then
    /// they run as stand-ins on other silos and go back when it returns: a restart moves nothing.
    /// </summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Replica moves in flight at once, cluster-wide: a new silo is filled, and a drained one emptied, this many at a time.</summary>
    public int MaxMovesInFlight { get; set; } = 2;

    /// <summary>How long a move may take before it is asked for again (the replica did not land on its new silo).</summary>
    public TimeSpan MoveRetryAfter { get; set; } = TimeSpan.FromSeconds(15);
}
