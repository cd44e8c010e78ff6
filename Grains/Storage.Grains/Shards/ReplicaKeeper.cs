using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Storage.Directory;

namespace Storage.Shards;

/// <summary>
/// Keeps every replica active: each silo periodically touches the replicas the map puts on it, and those
/// whose silo is gone (Orleans then activates them elsewhere). Also refreshes the silo's shard map cache.
/// </summary>
public sealed partial class ReplicaKeeper : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly IGrainFactory _grains;
    private readonly ShardMapCache _maps;
    private readonly ILocalSiloDetails _local;
    private readonly IClusterMembershipService _membership;
    private readonly ILogger<ReplicaKeeper> _logger;
    private readonly LocalReplicas _localReplicas;
    private readonly ReplicaKeeperOptions _options;
    private readonly Dictionary<string, DateTime> _stableSince = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public ReplicaKeeper(
        IGrainFactory grains,
        ShardMapCache maps,
        ILocalSiloDetails local,
        IClusterMembershipService membership,
        LocalReplicas localReplicas,
        IOptions<ReplicaKeeperOptions> options,
        ILogger<ReplicaKeeper> logger)
    {
        _grains = grains;
        _maps = maps;
        _local = local;
        _membership = membership;
        _localReplicas = localReplicas;
        _options = options.Value;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ReplicaKeeper), ServiceLifecycleStage.Active, OnStart, OnStop);

    private Task OnStart(CancellationToken ct)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token));
        return Task.CompletedTask;
    }

    private async Task OnStop(CancellationToken ct)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await KeepOnceAsync(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                LogKeepFailed(e.Message);
            }

            try
            {
                await Task.Delay(_options.Period, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task KeepOnceAsync(CancellationToken ct)
    {
        var map = await _maps.GetAsync(ct, refresh: true);
        var me = SiloKeys.Of(_local.SiloAddress);
        var alive = _membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => SiloKeys.Of(m.SiloAddress))
            .ToHashSet();
        TrackStability(alive);
        var touches = new List<Task>();
        foreach (var shard in map.Shards)
        {
            foreach (var replica in shard.Replicas)
            {
                if (replica.SiloKey == me || !alive.Contains(replica.SiloKey))
                {
                    touches.Add(_grains.GetGrain<IShardReplicaGrain>(shard.ReplicaKey(replica.ReplicaId)).Ensure());
                }
            }
        }

        await Task.WhenAll(touches).WaitAsync(TimeSpan.FromSeconds(10), ct);

        // A replica standing in here while its own silo was away goes home once that silo is back, one
        // per pass so that a returning silo does not cause a burst of elections.
        var here = _localReplicas.Keys;
        foreach (var key in here)
        {
            var replica = ReplicaKey.Parse(key);
            var home = map.FindShard(replica.Shard)?.Replicas.FirstOrDefault(r => r.ReplicaId == replica.Replica)?.SiloKey;
            if (home is not null && home != me && alive.Contains(home) && _stableSince.TryGetValue(home, out var since) && DateTime.UtcNow - since > _options.HomeStableFor)
            {
                LogRelocating(key, home);
                await _grains.GetGrain<IShardReplicaGrain>(key).Relocate().WaitAsync(TimeSpan.FromSeconds(10), ct);
                return;
            }
        }

        // Leader balancing: a local leader that is not its shard's preferred leader (the map spreads those
        // evenly over silos) hands over to it once it is caught up; one transfer per pass.
        foreach (var key in here)
        {
            var replica = ReplicaKey.Parse(key);
            var preferred = map.FindShard(replica.Shard)?.Replicas.FirstOrDefault();
            if (preferred is not null && preferred.ReplicaId != replica.Replica && alive.Contains(preferred.SiloKey)
                && await _grains.GetGrain<IShardReplicaGrain>(key).PreferLeader(preferred.ReplicaId).WaitAsync(TimeSpan.FromSeconds(5), ct))
            {
                LogBalancing(key, preferred.ReplicaId);
                return;
            }
        }
    }

    private void TrackStability(HashSet<string> alive)
    {
        foreach (var silo in alive)
        {
            _stableSince.TryAdd(silo, DateTime.UtcNow);
        }

        foreach (var gone in _stableSince.Keys.Where(k => !alive.Contains(k)).ToList())
        {
            _stableSince.Remove(gone);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leader {Replica} hands over to its shard's preferred leader {Preferred}")]
    private partial void LogBalancing(string replica, long preferred);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} is moving back to its silo {Home}")]
    private partial void LogRelocating(string replica, string home);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica keeper pass failed: {Reason}")]
    private partial void LogKeepFailed(string reason);
}
