using System.Diagnostics.Metrics;

namespace Storage.Routing;

/// <summary>Router counters (meter <c>Storage.Router</c>), shared by every router activation on the silo.</summary>
public sealed class RouterMetrics : IDisposable
{
    public const string MeterName = "Storage.Router";
    private readonly Meter _meter;

    public RouterMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        WrongShard = _meter.CreateCounter<long>("storage.router.wrong_shard", "requests", "Requests a replica answered with a newer shard map (split), routed again by a refreshed map");
    }

    public Counter<long> WrongShard { get; }

    public void Dispose() => _meter.Dispose();
}
