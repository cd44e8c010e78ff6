using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Storage.Client;

/// <summary>A <c>host:port</c> gateway as given in <see cref="StorageClientOptions.Gateways"/>.</summary>
internal readonly record struct GatewayAddress(string Host, int Port)
{
    /// <summary>Parses <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>; throws <see cref="ArgumentException"/> otherwise.</summary>
    public static GatewayAddress Parse(string text)
    {
        var value = text?.Trim() ?? string.Empty;
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            throw new ArgumentException($"gateway '{text}' is not host:port");
        }

        var host = value[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"gateway '{text}' is not host:port (write an IPv6 address as [addr]:port)");
        }

        if (!int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"gateway '{text}' has no valid port (1-65535)");
        }

        if (host.Length == 0)
        {
            throw new ArgumentException($"gateway '{text}' has no host");
        }

        return new GatewayAddress(host, port);
    }

    /// <summary>The endpoint to dial: the address itself, or the host name's first IPv4 address (else its first address).</summary>
    public async Task<IPEndPoint> ResolveAsync(CancellationToken ct)
    {
        if (IPAddress.TryParse(Host, out var address))
        {
            return new IPEndPoint(address, Port);
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(Host, ct).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new StorageConnectionException($"cannot resolve gateway host '{Host}': {e.Message}", e);
        }

        // Silos advertise IPv4 by default; prefer it so "localhost" does not pick ::1 that nothing listens on.
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new StorageConnectionException($"gateway host '{Host}' has no address");
        return new IPEndPoint(chosen, Port);
    }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
