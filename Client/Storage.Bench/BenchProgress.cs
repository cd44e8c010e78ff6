namespace Storage.Bench;

/// <summary>What a run looks like right now, for a progress display (sent every <see cref="BenchRunner.ProgressInterval"/>).</summary>
/// <param name="Phase">The current phase.</param>
/// <param name="Fraction">How far the current phase is, 0 to 1.</param>
/// <param name="Elapsed">Time spent in the current phase.</param>
/// <param name="Ops">Successful operations counted so far (the preloaded keys while preloading).</param>
/// <param name="Errors">Failed operations counted so far.</param>
/// <param name="OpsPerSecond">Recent throughput (since the previous report).</param>
/// <param name="RecentP99Ms">p99 latency of the operations completed since the previous report; 0 when none.</param>
public sealed record BenchProgress(BenchPhase Phase, double Fraction, TimeSpan Elapsed, long Ops, long Errors, double OpsPerSecond, double RecentP99Ms);
