namespace Storage.Directory;

/// <summary>
/// A silo's identity in the shard map: its name (<c>Storage:SiloName</c>, Orleans' <see cref="SiloOptions.SiloName"/>;
/// on Kubernetes the StatefulSet pod name). The name survives a restart under another address, so a silo that comes
/// back — on any host or port — gets its replicas back; the address and the generation in <see cref="SiloAddress"/>
/// do not. Two live silos must not share a name (the newest generation wins where one must be chosen).
/// </summary>
public static class SiloKeys
{
    public static string Of(ILocalSiloDetails local) => local.Name;

    public static string Of(ClusterMember member) => member.Name;

    /// <summary>
    /// The name of the silo at <paramref name="address"/> in <paramref name="snapshot"/>; its endpoint if the snapshot
    /// does not know it (a silo that has not yet joined: it cannot host a replica either way).
    /// </summary>
    public static string Of(SiloAddress address, ClusterMembershipSnapshot snapshot) =>
        snapshot.Members.TryGetValue(address, out var member) ? member.Name : address.Endpoint.ToString();

    /// <summary>The active silo named <paramref name="name"/> (the newest generation if a restart left two), or null.</summary>
    public static SiloAddress? ActiveSilo(string name, ClusterMembershipSnapshot snapshot)
    {
        SiloAddress? found = null;
        foreach (var member in snapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && member.Name == name && (found is null || member.SiloAddress.Generation > found.Generation))
            {
                found = member.SiloAddress;
            }
        }

        return found;
    }
}
