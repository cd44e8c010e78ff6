namespace Storage.Directory;

/// <summary>
/// Silo addresses ↔ silo names (<see cref="SiloKeys"/>) by the silo's current membership view. Placement is offered
/// addresses; the shard map holds names.
/// </summary>
public sealed class SiloNames
{
    private readonly Func<ClusterMembershipSnapshot> _snapshot;

    public SiloNames(IClusterMembershipService membership)
        : this(() => membership.CurrentSnapshot)
    {
    }

    public SiloNames(Func<ClusterMembershipSnapshot> snapshot) => _snapshot = snapshot;

    public string Of(SiloAddress address) => SiloKeys.Of(address, _snapshot());

    /// <summary>The active silo named <paramref name="name"/>, or null.</summary>
    public SiloAddress? Active(string name) => SiloKeys.ActiveSilo(name, _snapshot());
}
