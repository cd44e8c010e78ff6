using System.Diagnostics.Metrics;

namespace Storage.Persistence;

/// <summary>The instruments of meter "Storage.LogWriter".</summary>
internal sealed class LogWriterMetrics : IDisposable
{
    public const string MeterName = "Storage.LogWriter";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public LogWriterMetrics(IMeterFactory? meterFactory, Func<int> queueLength)
    {
        // A factory-made meter is disposed by the factory; one we make ourselves is ours to dispose.
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Batches = _meter.CreateCounter<long>("storage.logwriter.batches", "{batch}", "Transactions committed by the log writer.");
        FailedBatches = _meter.CreateCounter<long>("storage.logwriter.batches.failed", "{batch}", "Batches whose transaction failed; every write in them was failed.");
        WritesPerBatch = _meter.CreateHistogram<int>("storage.logwriter.batch.writes", "{write}", "Replica writes grouped into one transaction.");
        Writes = _meter.CreateCounter<long>("storage.logwriter.writes", "{write}", "Replica writes completed, by outcome (committed, fenced, failed, refused).");
        Bytes = _meter.CreateCounter<long>("storage.logwriter.bytes", "By", "Approximate log bytes sent to PostgreSQL.");
        CommitDuration = _meter.CreateHistogram<double>("storage.logwriter.commit.duration", "s", "Time from sending a batch to its commit.");
        _meter.CreateObservableUpDownCounter("storage.logwriter.queue.length", queueLength, "{write}", "Writes waiting for the next batch.");
    }

    public Meter Meter => _meter;

    public Counter<long> Batches { get; }

    public Counter<long> FailedBatches { get; }

    public Histogram<int> WritesPerBatch { get; }

    public Counter<long> Writes { get; }

    public Counter<long> Bytes { get; }

    public Histogram<double> CommitDuration { get; }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
