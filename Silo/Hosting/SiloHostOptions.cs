namespace Storage.Silo.Hosting;

/// <summary>
/// How the silo process presents itself: cluster identity, name, address and ports (configuration section
/// <c>Storage</c>, beside <see cref="StorageOptions"/>; environment <c>Storage__SiloPort=11112</c>, command line
/// <c>--Storage:SiloPort=11112</c>). Only the host reads these; the store's own settings are <see cref="StorageOptions"/>.
/// </summary>
public sealed class SiloHostOptions
{
    public string ClusterId { get; set; } = "storage";

    public string ServiceId { get; set; } = "storage";

    /// <summary>Silo name (defaults to the machine name and silo port); on Kubernetes the pod name.</summary>
    public string? SiloName { get; set; }

    /// <summary>The address other silos and clients reach this silo on (default loopback).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>The port of the health endpoints (<c>/health/live</c>, <c>/health/ready</c>).</summary>
    public int HttpPort { get; set; } = 8080;
}
