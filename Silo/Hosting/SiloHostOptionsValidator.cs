using System.Net;
using Microsoft.Extensions.Options;

namespace Storage.Silo.Hosting;

/// <summary>Checks <see cref="SiloHostOptions"/>; each failure names its setting.</summary>
internal sealed class SiloHostOptionsValidator : IValidateOptions<SiloHostOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloHostOptions options)
    {
        var errors = new List<string>();
        void Port(string setting, int value)
        {
            if (value is < 1 or > 65535)
            {
                errors.Add($"Storage:{setting} must be a TCP port between 1 and 65535 (got {value})");
            }
        }

        Port(nameof(SiloHostOptions.SiloPort), options.SiloPort);
        Port(nameof(SiloHostOptions.GatewayPort), options.GatewayPort);
        Port(nameof(SiloHostOptions.HttpPort), options.HttpPort);
        if (new[] { options.SiloPort, options.GatewayPort, options.HttpPort }.Distinct().Count() != 3)
        {
            errors.Add($"Storage:SiloPort ({options.SiloPort}), Storage:GatewayPort ({options.GatewayPort}) and Storage:HttpPort ({options.HttpPort}) must differ");
        }

        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            errors.Add("Storage:ClusterId must not be empty");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            errors.Add("Storage:ServiceId must not be empty");
        }

        if (!IPAddress.TryParse(options.AdvertisedAddress, out _))
        {
            errors.Add($"Storage:AdvertisedAddress must be an IP address (got '{options.AdvertisedAddress}')");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
