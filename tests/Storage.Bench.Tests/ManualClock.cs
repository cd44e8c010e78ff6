namespace Storage.Bench.Tests;

/// <summary>
/// A clock that moves only when told (microsecond timestamps), so that the runner's windows and latencies depend on
/// the operations done, not on how busy the machine is.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private long _micros = 1;

    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() => Interlocked.Read(ref _micros);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _micros, (long)by.TotalMicroseconds);
}
