using Microsoft.Extensions.Logging;
using Storage.Directory;

namespace Storage.Shards;

/// <summary>
/// Keeps every replica active: each silo periodically touches the replicas the map puts on it, and those
/// whose silo is gone (Orleans then activates them elsewhere). Also refreshes the silo's shard map cache.
/// </summary>
public sealed partial class ReplicaKeeper : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly IGrainFactory grains;
    private readonly ShardMapCache maps;
    private readonly ILocalSiloDetails local;
    private readonly IClusterMembershipService membership;
    private readonly ILogger<ReplicaKeeper> logger;
    private readonly LocalReplicas localReplicas;
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public ReplicaKeeper(IGrainFactory grains, ShardMapCache maps, ILocalSiloDetails local, IClusterMembershipService membership, LocalReplicas localReplicas, ILogger<ReplicaKeeper> logger)
    {
        this.localReplicas = localReplicas;
        this.grains = grains;
        this.maps = maps;
        this.local = local;
        this.membership = membership;
        this.logger = logger;
    }

    public static TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ReplicaKeeper), ServiceLifecycleStage.Active, OnStart, OnStop);

    private Task OnStart(CancellationToken ct)
    {
        loop = Task.Run(() => RunAsync(stopping.Token));
        return Task.CompletedTask;
    }

    private async Task OnStop(CancellationToken ct)
    {
        await stopping.CancelAsync();
        if (loop is not null)
        {
            await loop.WaitAsync(ct).ContinueWith(_ => { }, TaskScheduler.Default);
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
                await Task.Delay(Period, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task KeepOnceAsync(CancellationToken ct)
    {
        var map = await maps.GetAsync(ct, refresh: true);
        var me = SiloKeys.Of(local.SiloAddress);
        var alive = membership.CurrentSnapshot.Members.Values
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
                    touches.Add(grains.GetGrain<IShardReplicaGrain>(shard.ReplicaKey(replica.ReplicaId)).Ensure());
                }
            }
        }

        await Task.WhenAll(touches).WaitAsync(TimeSpan.FromSeconds(10), ct);

        // A replica standing in here while its own silo was away goes home once that silo is back, one
        // per pass so that a returning silo does not cause a burst of elections.
        var here = localReplicas.Keys;
        foreach (var key in here)
        {
            var replica = ReplicaKey.Parse(key);
            var home = map.FindShard(replica.Shard)?.Replicas.FirstOrDefault(r => r.ReplicaId == replica.Replica)?.SiloKey;
            if (home is not null && home != me && alive.Contains(home) && stableSince.TryGetValue(home, out var since) && DateTime.UtcNow - since > HomeStableFor)
            {
                LogRelocating(key, home);
                await grains.GetGrain<IShardReplicaGrain>(key).Relocate().WaitAsync(TimeSpan.FromSeconds(10), ct);
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
                && await grains.GetGrain<IShardReplicaGrain>(key).PreferLeader(preferred.ReplicaId).WaitAsync(TimeSpan.FromSeconds(5), ct))
            {
                LogBalancing(key, preferred.ReplicaId);
                return;
            }
        }
    }

    /// <summary>How long a silo must have been active before replicas move back to it.</summary>
    public static TimeSpan HomeStableFor { get; set; } = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, DateTime> stableSince = new();

    private void TrackStability(HashSet<string> alive)
    {
        foreach (var silo in alive)
        {
            stableSince.TryAdd(silo, DateTime.UtcNow);
        }

        foreach (var gone in stableSince.Keys.Where(k => !alive.Contains(k)).ToList())
        {
            stableSince.Remove(gone);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leader {Replica} hands over to its shard's preferred leader {Preferred}")]
    private partial void LogBalancing(string replica, long preferred);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} is moving back to its silo {Home}")]
    private partial void LogRelocating(string replica, string home);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica keeper pass failed: {Reason}")]
    private partial void LogKeepFailed(string reason);
}
