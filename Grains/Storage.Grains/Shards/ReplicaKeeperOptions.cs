namespace Storage.Shards;

/// <summary>How each silo's <see cref="ReplicaKeeper"/> paces itself (configuration section <c>Storage:Keeper</c>).</summary>
public sealed class ReplicaKeeperOptions
{
    public const string SectionName = "Storage:Keeper";

    /// <summary>Time between passes: touch the replicas, move one home, balance one leader.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a silo must have been active before replicas standing in elsewhere move back to it.</summary>
    public TimeSpan HomeStableFor { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a replica waits before trying again after a move home that did not land there; doubles with every
    /// further failure up to <see cref="RelocationBackoffMax"/>, and starts over once the replica is home.
    /// </summary>
    public TimeSpan RelocationBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts to move one replica home.</summary>
    public TimeSpan RelocationBackoffMax { get; set; } = TimeSpan.FromMinutes(5);
}
