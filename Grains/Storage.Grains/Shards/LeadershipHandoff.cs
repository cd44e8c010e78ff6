using Microsoft.Extensions.Logging;

namespace Storage.Shards;

/// <summary>
/// Graceful shutdown: before the silo leaves, every replica leading its group here hands leadership to a
/// caught-up peer, so writes see a transfer (one round trip) instead of an election timeout.
/// </summary>
public sealed partial class LeadershipHandoff : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly IGrainFactory _grains;
    private readonly LocalReplicas _replicas;
    private readonly ILogger<LeadershipHandoff> _logger;

    public LeadershipHandoff(IGrainFactory grains, LocalReplicas replicas, ILogger<LeadershipHandoff> logger)
    {
        _grains = grains;
        _replicas = replicas;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LeadershipHandoff), ServiceLifecycleStage.Active, _ => Task.CompletedTask, OnStopAsync);

    private async Task OnStopAsync(CancellationToken ct)
    {
        var keys = _replicas.Keys;
        var results = await Task.WhenAll(keys.Select(async key =>
        {
            try
            {
                return await _grains.GetGrain<IShardReplicaGrain>(key).HandOffLeadership().WaitAsync(TimeSpan.FromSeconds(5), ct);
            }
            // A replica's own failure arrives typed (e.g. StorageBackendUnavailableException while it re-activates):
            // like a timeout, it only means no hand-off from this one.
            catch (Exception e) when (e is TimeoutException or OrleansException or OperationCanceledException or StorageException)
            {
                return false;
            }
        }));
        LogHandoffs(results.Count(r => r), keys.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: handed off {Moved} leaderships ({Local} replicas on this silo)")]
    private partial void LogHandoffs(int moved, int local);
}
