namespace Storage.Silo.Hosting;

/// <summary>
/// The silo's settings (configuration section <c>Storage</c>; environment <c>Storage__SiloPort=11112</c>;
/// command line <c>--Storage:SiloPort=11112</c>). Without a connection string the silo starts an embedded
/// PostgreSQL under <see cref="DataDirectory"/>.
/// </summary>
public sealed class StorageSiloOptions
{
    public string? ConnectionString { get; set; }

    public string ClusterId { get; set; } = "storage";

    public string ServiceId { get; set; } = "storage";

    public string Region { get; set; } = "local";

    public string Zone { get; set; } = "local-a";

    /// <summary>Silo name (defaults to the machine name and silo port); on Kubernetes the pod name.</summary>
    public string? SiloName { get; set; }

    /// <summary>The address other silos and clients reach this silo on (default loopback).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    public int HttpPort { get; set; } = 8080;

    /// <summary>Where the embedded PostgreSQL keeps its data when no connection string is given.</summary>
    public string DataDirectory { get; set; } = ".data/postgres";

    /// <summary>Problems with the settings, each naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Port(string name, int value)
        {
            if (value is < 1 or > 65535)
            {
                errors.Add($"Storage:{name} must be a TCP port between 1 and 65535 (got {value})");
            }
        }

        Port(nameof(SiloPort), SiloPort);
        Port(nameof(GatewayPort), GatewayPort);
        Port(nameof(HttpPort), HttpPort);
        if (new[] { SiloPort, GatewayPort, HttpPort }.Distinct().Count() != 3)
        {
            errors.Add($"Storage:SiloPort ({SiloPort}), Storage:GatewayPort ({GatewayPort}) and Storage:HttpPort ({HttpPort}) must differ");
        }

        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            errors.Add("Storage:ClusterId must not be empty");
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            errors.Add("Storage:ServiceId must not be empty");
        }

        if (string.IsNullOrWhiteSpace(Region) || string.IsNullOrWhiteSpace(Zone))
        {
            errors.Add("Storage:Region and Storage:Zone must not be empty");
        }

        if (!System.Net.IPAddress.TryParse(AdvertisedAddress, out _))
        {
            errors.Add($"Storage:AdvertisedAddress must be an IP address (got '{AdvertisedAddress}')");
        }

        if (ConnectionString is { Length: > 0 })
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException e)
            {
                errors.Add($"Storage:ConnectionString is not a valid PostgreSQL connection string: {e.Message}");
            }
        }

        return errors;
    }
}
