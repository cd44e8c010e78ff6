using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Storage.Directory;
using Storage.Shards;
using Storage.StateMachine;

namespace Storage.Routing;

/// <summary>
/// The app-facing router: validates, finds the key's shard from the cached map, calls the leader it last
/// saw, follows NotLeader hints and retries other replicas with the same <see cref="WriteId"/> until the
/// retry budget is spent. Every replica call carries the map version it was routed with; a replica split by a newer
/// map answers <see cref="WrongShardException"/>, and the router refreshes its map to at least that version and routes
/// again (a write: the same encoded command, so the same WriteId) within the same budget. Nothing is applied for a
/// request that fails validation.
/// </summary>
[StatelessWorker]
[Reentrant] // stateless: every call is independent, so one activation serves many at once
public sealed partial class StoreGrain : Grain, IStore
{
    private readonly ShardMapCache _maps;
    private readonly LeaderHints _hints;
    private readonly RouterMetrics _metrics;
    private readonly RouterOptions _options;
    private readonly StoreLimits _limits;
    private readonly IClusterMembershipService _membership;
    private readonly Orleans.Runtime.MembershipService.SiloMetadata.ISiloMetadataCache _metadata;
    private readonly ILogger<StoreGrain> _logger;
    private readonly TimeSpan _replicaCallTimeout;
    private readonly string? _connectionString;

    public StoreGrain(
        ShardMapCache maps,
        LeaderHints hints,
        RouterMetrics metrics,
        IOptions<RouterOptions> options,
        IOptions<ShardReplicaOptions> replicaOptions,
        IOptions<StoreLimitsOptions> limits,
        IOptions<StorageOptions> storage,
        IClusterMembershipService membership,
        Orleans.Runtime.MembershipService.SiloMetadata.ISiloMetadataCache metadata,
        ILogger<StoreGrain> logger)
    {
        _maps = maps;
        _hints = hints;
        _metrics = metrics;
        _options = options.Value;
        _limits = limits.Value.ToLimits();
        _membership = membership;
        _metadata = metadata;
        _logger = logger;
        _replicaCallTimeout = replicaOptions.Value.OperationTimeout + ReplicaCallMargin;
        _connectionString = storage.Value.ConnectionString;
    }

    /// <summary>
    /// What a replica call may take beyond the replica's own <see cref="ShardReplicaOptions.OperationTimeout"/>
    /// (network, queueing). Past it the call counts as timed out: like the replica's own "busy", its outcome is
    /// unknown, and it is retried with the same <see cref="WriteId"/>.
    /// </summary>
    private static readonly TimeSpan ReplicaCallMargin = TimeSpan.FromSeconds(3);

    public Task<GetResult> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable)
    {
        KeyValidator.ValidateKey(key, _limits);
        ValidateConsistency(consistency);
        return OnShardAsync(key, consistency == ReadConsistency.Eventual, (r, version) => r.Read(key, consistency, version));
    }

    public Task<WriteResult> PutAsync(string key, byte[] value, WriteId id) =>
        WriteAsync(new PutCommand(Checked(id), key, value ?? throw new InvalidRequestException("value must not be null")));

    public Task<WriteResult> DeleteAsync(string key, WriteId id) => WriteAsync(new DeleteCommand(Checked(id), key));

    public Task<WriteResult> CompareAndSwapAsync(string key, long expectedVersion, byte[] value, WriteId id)
    {
        if (expectedVersion < 0)
        {
            throw new InvalidRequestException($"expected version must be 0 (absent) or positive, not {expectedVersion}");
        }

        return WriteAsync(new CompareAndSwapCommand(Checked(id), key, expectedVersion, value ?? throw new InvalidRequestException("value must not be null")));
    }

    public async Task<ScanPage> ScanAsync(string prefix, string? continueAfter, int limit, ReadConsistency consistency = ReadConsistency.Linearizable)
    {
        KeyValidator.ValidatePrefix(prefix, _limits);
        ValidateConsistency(consistency);
        if (limit < 1 || limit > _options.MaxScanLimit)
        {
            throw new InvalidRequestException($"scan limit must be between 1 and {_options.MaxScanLimit}, not {limit}");
        }

        var deadline = DateTime.UtcNow + _options.RetryBudget;
        var map = await _maps.GetAsync();
        while (true)
        {
            ScanPage[] pages;
            try
            {
                var routed = map;
                pages = await Task.WhenAll(routed.Shards.Select(shard => OnReplicaAsync(
                    shard,
                    consistency == ReadConsistency.Eventual,
                    deadline,
                    r => r.Scan(prefix, continueAfter, limit, consistency, routed.Version, shard.RangeStart, shard.RangeEnd))));
            }
            catch (WrongShardException e)
            {
                // A shard split by a map we have not seen: the whole page is asked again over the newer map, so the
                // new shard's keys are not silently missing from it.
                map = await NewerMapAsync(map.Version, e, deadline, "the scan");
                continue;
            }

            // Each shard returned its first `limit` keys after the cursor; the first `limit` of the merge are the answer.
            var merged = pages.SelectMany(p => p.Items).OrderBy(i => i.Key, StringComparer.Ordinal).ToList();
            var more = merged.Count > limit || pages.Any(p => p.ContinueAfter is not null);
            var items = merged.Take(limit).ToList();
            return new ScanPage(items, more && items.Count > 0 ? items[^1].Key : null);
        }
    }

    public async Task<ClusterStatus> GetStatusAsync()
    {
        var map = await _maps.GetAsync(refresh: true);
        // One row per silo name: its newest incarnation (a restarted silo leaves a dead row with the same name).
        var silos = _membership.CurrentSnapshot.Members.Values
            .GroupBy(SiloKeys.Of)
            .Select(g => g.OrderByDescending(m => m.SiloAddress.Generation).First())
            .OrderBy(SiloKeys.Of, StringComparer.Ordinal)
            .Select(m =>
            {
                var meta = m.Status == SiloStatus.Active ? _metadata.GetSiloMetadata(m.SiloAddress).Metadata : null;
                return new ClusterSilo(
                    m.SiloAddress.Endpoint.ToString(),
                    m.Name,
                    meta is not null && meta.TryGetValue(SiloMetadataKeys.Region, out var region) ? region : "",
                    meta is not null && meta.TryGetValue(SiloMetadataKeys.Zone, out var zone) ? zone : "",
                    m.Status.ToString());
            })
            .ToList();

        var shards = await Task.WhenAll(map.Shards.Select(async shard =>
        {
            var replicas = await Task.WhenAll(shard.Replicas.Select(async info =>
            {
                try
                {
                    return await GrainFactory.GetGrain<IShardReplicaGrain>(shard.ReplicaKey(info.ReplicaId)).GetStatus().WaitAsync(TimeSpan.FromSeconds(3));
                }
                catch (Exception)
                {
                    return new ReplicaStatus(info.ReplicaId, info.SiloKey, "Unreachable", 0, 0, 0, Reachable: false, IsLearner: false);
                }
            }));
            var leader = replicas.Where(r => r.Role == "Leader").OrderByDescending(r => r.Term).FirstOrDefault();
            return new ShardStatus(shard.ShardId, leader?.ReplicaId ?? 0, replicas);
        }));

        var placement = await Directory.GetPlacement();
        return new ClusterStatus(map.Version, silos, shards, placement.Moves, placement.Draining);
    }

    public Task DrainAsync(string silo) => Directory.Drain(silo, leaving: false);

    public Task UndrainAsync(string silo) => Directory.Undrain(silo);

    public async Task<long> SplitAsync(int shardId, ulong? splitAt = null)
    {
        var version = await Directory.Split(shardId, splitAt);
        _maps.Update((await _maps.GetAsync(refresh: true)));
        return version;
    }

    public Task<long> ReplaceReplicaAsync(int shardId, long replicaId, string silo) => Directory.ReplaceReplica(shardId, replicaId, silo);

    private IDirectoryGrain Directory => GrainFactory.GetGrain<IDirectoryGrain>(0);

    private async Task<WriteResult> WriteAsync(KvCommand command)
    {
        KeyValidator.Validate(command, _limits);
        var encoded = KvCommandCodec.Encode(command);
        return await OnShardAsync(command.Key, anyReplica: false, (r, version) => r.Write(encoded, version));
    }

    /// <summary>Calls the key's shard by the cached map; on <see cref="WrongShardException"/>, again by a newer map.</summary>
    private async Task<T> OnShardAsync<T>(string key, bool anyReplica, Func<IShardReplicaGrain, long, Task<T>> call)
    {
        var deadline = DateTime.UtcNow + _options.RetryBudget;
        var map = await _maps.GetAsync();
        while (true)
        {
            try
            {
                var routed = map;
                return await OnReplicaAsync(routed.ShardFor(key), anyReplica, deadline, r => call(r, routed.Version));
            }
            catch (WrongShardException e)
            {
                map = await NewerMapAsync(map.Version, e, deadline, $"key '{key}'");
            }
        }
    }

    /// <summary>
    /// The map to route with after <paramref name="wrong"/> answered a request routed with version
    /// <paramref name="routedWith"/>: refreshed from the directory until it has at least the version the replica named
    /// (the directory publishes it right after the split is applied). A replica that names no newer version has not
    /// applied our map's split yet: wait a little and route by the same map again.
    /// </summary>
    private async Task<ShardMap> NewerMapAsync(long routedWith, WrongShardException wrong, DateTime deadline, string what)
    {
        _metrics.WrongShard.Add(1);
        var delay = _options.RetryDelay;
        while (true)
        {
            var map = await _maps.GetAsync(refresh: true);
            if (map.Version >= wrong.MapVersion && (map.Version > routedWith || wrong.MapVersion <= routedWith))
            {
                if (wrong.MapVersion <= routedWith)
                {
                    await Task.Delay(delay);
                }

                return map;
            }

            if (DateTime.UtcNow + delay >= deadline)
            {
                LogMapBehind(what, map.Version, wrong.MapVersion);
                throw new ShardUnavailableException(
                    $"{what} moved to another shard by shard map version {wrong.MapVersion}, but this router could only get version {map.Version} within " +
                    $"{_options.RetryBudget.TotalSeconds:0.#} s; a write may or may not have been applied: retrying it with the same WriteId is safe",
                    wrong);
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RetryDelay.Ticks * 16));
        }
    }

    /// <summary>
    /// Calls the shard's leader (or, for stale-tolerant reads, any replica), retrying until <paramref name="deadline"/>.
    /// <see cref="WrongShardException"/> is not retried here: the caller routes again by a newer map.
    /// </summary>
    private async Task<T> OnReplicaAsync<T>(ShardInfo shard, bool anyReplica, DateTime deadline, Func<IShardReplicaGrain, Task<T>> call)
    {
        var replicas = shard.Replicas.Select(r => r.ReplicaId).ToList();
        var next = anyReplica ? Random.Shared.Next(replicas.Count) : 0;
        var delay = _options.RetryDelay;
        Exception? last = null;
        for (var attempt = 0; ; attempt++)
        {
            var target = !anyReplica && _hints.Get(shard.ShardId) is { } hinted && replicas.Contains(hinted)
                ? hinted
                : replicas[next++ % replicas.Count];
            try
            {
                var result = await call(GrainFactory.GetGrain<IShardReplicaGrain>(shard.ReplicaKey(target))).WaitAsync(_replicaCallTimeout);
                if (!anyReplica)
                {
                    _hints.Set(shard.ShardId, target);
                }

                return result;
            }
            catch (WrongShardException)
            {
                throw;
            }
            catch (NotLeaderException e)
            {
                last = e;
                _hints.Forget(shard.ShardId, target);
                if (e.Leader != 0 && !replicas.Contains(e.Leader)
                    && (await _maps.GetAsync(refresh: true)).FindShard(shard.ShardId) is { } newer)
                {
                    // The group has a member this router's map does not name yet (a replacement): route by a newer map.
                    shard = newer;
                    replicas = newer.Replicas.Select(r => r.ReplicaId).ToList();
                }

                if (e.Leader != 0 && e.Leader != target && replicas.Contains(e.Leader))
                {
                    _hints.Set(shard.ShardId, e.Leader);
                    if (attempt < 2 * replicas.Count)
                    {
                        continue; // go straight to the leader it named
                    }
                }
            }
            catch (Exception e) when (TransientErrors.IsTransientInCluster(e))
            {
                last = e;
                _hints.Forget(shard.ShardId, target);
            }

            if (DateTime.UtcNow + delay >= deadline)
            {
                // The last error goes to the client inside this one, so it must be one Orleans can serialize.
                var cause = ErrorBoundary.WireSafe(last!, _connectionString);
                LogGaveUp(shard.ShardId, attempt + 1, cause.Message);
                throw new ShardUnavailableException(
                    $"shard {shard.ShardId} did not answer within {_options.RetryBudget.TotalSeconds:0.#} s ({attempt + 1} attempts; last: {cause.Message}); " +
                    "a write may or may not have been applied: retrying it with the same WriteId is safe",
                    cause);
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RetryDelay.Ticks * 16));
        }
    }

    private static WriteId Checked(WriteId id)
    {
        if (id.ClientId == Guid.Empty || id.Sequence < 1)
        {
            throw new InvalidRequestException("a write needs a WriteId with a non-empty client id and a sequence of at least 1");
        }

        return id;
    }

    private static void ValidateConsistency(ReadConsistency consistency)
    {
        if (!Enum.IsDefined(consistency))
        {
            throw new InvalidRequestException($"unknown read consistency {(int)consistency}");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gave up on {What}: it moved to another shard by map version {Needed}, but the directory still serves version {Have}")]
    private partial void LogMapBehind(string what, long have, long needed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard {Shard} unavailable after {Attempts} attempts: {Reason}")]
    private partial void LogGaveUp(int shard, int attempts, string reason);
}
