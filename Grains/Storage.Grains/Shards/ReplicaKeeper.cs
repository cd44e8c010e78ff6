using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Storage.Directory;

namespace Storage.Shards;

/// <summary>
/// Keeps every replica active: each silo periodically touches the replicas the map puts on it, and those
/// whose silo is gone (Orleans then activates them elsewhere). Also refreshes the silo's shard map cache, moves
/// stand-ins home once their silo is back (with back-off, so moves converge) and balances leaders.
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
    private readonly IClusterManifestProvider _manifests;
    private readonly ReplicaMetrics _metrics;
    private readonly Dictionary<string, DateTime> _stableSince = new();

    // Per stand-in replica on this silo (key): its move home in progress or backing off. Only the keeper loop touches it.
    private readonly Dictionary<string, ReplicaKeeperRelocation> _relocations = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public ReplicaKeeper(
        IGrainFactory grains,
        ShardMapCache maps,
        ILocalSiloDetails local,
        IClusterMembershipService membership,
        LocalReplicas localReplicas,
        IClusterManifestProvider manifests,
        ReplicaMetrics metrics,
        IOptions<ReplicaKeeperOptions> options,
        ILogger<ReplicaKeeper> logger)
    {
        _manifests = manifests;
        _metrics = metrics;
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
        var me = SiloKeys.Of(_local);
        var alive = _membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(SiloKeys.Of)
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

        await CheckRelocationsAsync(me, ct);

        // A replica standing in here while its own silo was away goes home once that silo is back, one
        // per pass so that a returning silo does not cause a burst of elections.
        var here = _localReplicas.Keys;
        if (await RelocateOneAsync(map, me, here, ct))
        {
            return;
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

    /// <summary>
    /// Asks one stand-in to move home: only when its home silo has been active for <see cref="ReplicaKeeperOptions.HomeStableFor"/>,
    /// placement on this silo can use it (active, and its grain manifest has the replica grain: what the placement
    /// director is offered), and the replica is not backing off after a move that did not land.
    /// </summary>
    private async Task<bool> RelocateOneAsync(ShardMap map, string me, IReadOnlyCollection<string> here, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        foreach (var key in here)
        {
            var replica = ReplicaKey.Parse(key);
            var home = map.FindShard(replica.Shard)?.Replicas.FirstOrDefault(r => r.ReplicaId == replica.Replica)?.SiloKey;
            if (home is null || home == me)
            {
                ForgetRelocation(key);
                continue;
            }

            if (!_stableSince.TryGetValue(home, out var since) || now - since <= _options.HomeStableFor)
            {
                continue;
            }

            if (!_relocations.TryGetValue(key, out var relocation) || relocation.Home != home)
            {
                relocation = new ReplicaKeeperRelocation(home);
                _relocations[key] = relocation;
            }

            if (!relocation.MayStart(now))
            {
                continue;
            }

            var grain = _grains.GetGrain<IShardReplicaGrain>(key);
            if (!PlacementCanUse(home, grain.GetGrainId().Type))
            {
                if (!relocation.DeferralLogged)
                {
                    relocation.DeferralLogged = true;
                    LogHomeNotPlaceable(key, home);
                }

                continue;
            }

            LogRelocating(key, home);
            relocation.Started(now);
            _metrics.Relocations.Add(1);
            await grain.Relocate(map.Version).WaitAsync(TimeSpan.FromSeconds(10), ct);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Checks where each replica asked to move on an earlier pass runs now. Home: done. Anywhere else (still here,
    /// because the director called the move off or the migration failed; or another silo): a failed move, which
    /// backs the replica off, doubling each time. The first failure is logged, later ones only counted.
    /// </summary>
    private async Task CheckRelocationsAsync(string me, CancellationToken ct)
    {
        foreach (var (key, relocation) in _relocations.Where(r => r.Value.Awaiting).ToList())
        {
            string landed;
            try
            {
                landed = (await _grains.GetGrain<IShardReplicaGrain>(key).GetStatus().WaitAsync(TimeSpan.FromSeconds(5), ct)).Silo;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                landed = $"nowhere ({e.Message})";
            }

            // The replica moves once it is idle; give it as long as one back-off step before calling the move failed.
            if (landed == me && DateTime.UtcNow - relocation.StartedAt < _options.RelocationBackoff)
            {
                continue;
            }

            if (landed == relocation.Home)
            {
                if (relocation.Failures > 0)
                {
                    LogRelocatedAfterFailures(key, relocation.Home, relocation.Failures);
                }

                _relocations.Remove(key);
                continue;
            }

            _metrics.RelocationsFailed.Add(1);
            var wait = relocation.Failed(DateTime.UtcNow, _options.RelocationBackoff, _options.RelocationBackoffMax);
            if (relocation.Failures == 1)
            {
                LogRelocationFailed(key, relocation.Home, landed == me ? "still here" : landed, wait);
            }
        }
    }

    private void ForgetRelocation(string key)
    {
        if (_relocations.Remove(key, out var relocation) && relocation.Failures > 0)
        {
            LogRelocationAbandoned(key, relocation.Home, relocation.Failures);
        }
    }

    /// <summary>
    /// Whether placement on this silo may choose <paramref name="home"/>: it is active in this silo's membership view
    /// and this silo's copy of the cluster manifest lists the replica grain type for it. Orleans offers the placement
    /// director exactly those silos, so a move is only asked for when the director can honour it.
    /// </summary>
    private bool PlacementCanUse(string home, GrainType replicaGrain)
    {
        var silo = SiloKeys.ActiveSilo(home, _membership.CurrentSnapshot);
        return silo is not null
            && _manifests.Current.Silos.TryGetValue(silo, out var manifest)
            && manifest.Grains.ContainsKey(replicaGrain);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} waits to move home: its silo {Home} is active but placement cannot use it yet (not in this silo's cluster manifest for the replica grain)")]
    private partial void LogHomeNotPlaceable(string replica, string home);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} did not land on its silo {Home} (it runs on {Landed}); retrying in {Wait}, backing off while it fails (further failures are counted in storage.replica.relocations_failed, not logged)")]
    private partial void LogRelocationFailed(string replica, string home, string landed, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} is back on its silo {Home} after {Failures} failed moves")]
    private partial void LogRelocatedAfterFailures(string replica, string home, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} stopped trying to move to {Home} (its shard map entry changed) after {Failures} failed moves")]
    private partial void LogRelocationAbandoned(string replica, string home, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica keeper pass failed: {Reason}")]
    private partial void LogKeepFailed(string reason);
}
