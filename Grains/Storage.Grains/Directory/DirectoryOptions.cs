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

    /// <summary>Whether the directory splits shards by itself when they cross <see cref="SplitSizeBytes"/> or <see cref="SplitWritesPerSecond"/>.</summary>
    public bool AutoSplit { get; set; } = true;

    /// <summary>A shard whose data (keys and values) grows past this many bytes is split in two by key count (DESIGN §11: 64 MiB).</summary>
    public long SplitSizeBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>A shard that applies more writes per second than this for <see cref="SplitLoadWindow"/> is split in two by load (DESIGN §11: 2,500).</summary>
    public double SplitWritesPerSecond { get; set; } = 2500;

    /// <summary>How long the write rate must stay above <see cref="SplitWritesPerSecond"/> (DESIGN §11: 10 s).</summary>
    public TimeSpan SplitLoadWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The least time between two automatic splits of the same shard (DESIGN §11: one a minute).</summary>
    public TimeSpan SplitCooldown { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the directory waits for the parent's leader to apply a split before it tries again on its next pass.</summary>
    public TimeSpan SplitApplyTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
