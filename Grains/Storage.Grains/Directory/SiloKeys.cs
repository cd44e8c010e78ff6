namespace Storage.Directory;

/// <summary>
/// A silo's identity in the shard map: its endpoint "host:port", which survives a restart of the same
/// silo (the generation in <see cref="SiloAddress"/> does not).
/// </summary>
public static class SiloKeys
{
    public static string Of(SiloAddress address) => address.Endpoint.ToString();
}
