using System.Diagnostics.Metrics;

namespace Storage.Directory;

/// <summary>The rebalancer's figures (meter <c>Storage.Directory</c>), reported by the silo that hosts the directory.</summary>
public sealed class DirectoryMetrics : IDisposable
{
    public const string MeterName = "Storage.Directory";
    private readonly Meter _meter;

    public DirectoryMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        MovesMade = _meter.CreateCounter<long>("storage.directory.moves", "moves", "Replica moves finished (the replica runs on its new silo)");
        MovesPlanned = _meter.CreateCounter<long>("storage.directory.moves_planned", "moves", "Replica moves decided and persisted");
        _meter.CreateObservableGauge("storage.directory.map_version", () => MapVersion, "versions", "Version of the shard map the directory holds");
        _meter.CreateObservableGauge("storage.directory.moves_in_flight", () => MovesInFlight, "moves", "Replica moves persisted and not yet finished");
    }

    public Counter<long> MovesMade { get; }

    public Counter<long> MovesPlanned { get; }

    public long MapVersion { get; set; }

    public int MovesInFlight { get; set; }

    public void Dispose() => _meter.Dispose();
}
