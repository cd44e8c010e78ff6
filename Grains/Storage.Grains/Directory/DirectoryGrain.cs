using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Storage.Directory;

/// <summary>
/// Makes the first shard map from the active silos (their region and zone from silo metadata), keeps it persisted,
/// and runs the rebalancer (<c>DirectoryGrain.Rebalance.cs</c>) on a timer. Reentrant so that map reads never wait
/// for a rebalancer pass; every change of the persisted state holds <see cref="_gate"/>. Brief duplicate activations
/// are harmless: the storage ETag lets only one write win and the other activation re-reads.
/// </summary>
[Reentrant]
public sealed partial class DirectoryGrain : Grain, IDirectoryGrain
{
    private readonly GrainStateSlot<DirectoryState> _state;
    private readonly IClusterMembershipService _membership;
    private readonly ISiloMetadataCache _metadata;
    private readonly DirectoryOptions _options;
    private readonly ShardMapCache _maps;
    private readonly ILogger<DirectoryGrain> _logger;
    private readonly DirectoryMetrics _metrics;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _loaded;
    private Task? _loading;

    // The last map known durable: what readers get (see PersistAsync).
    private ShardMap? _published;

    public DirectoryGrain(
        [FromKeyedServices(StorageProviders.Checkpoints)] IGrainStorage storage,
        IClusterMembershipService membership,
        ISiloMetadataCache metadata,
        IOptions<DirectoryOptions> options,
        ShardMapCache maps,
        DirectoryMetrics metrics,
        ILogger<DirectoryGrain> logger)
    {
        _metrics = metrics;
        _state = new GrainStateSlot<DirectoryState>(storage, "directory", this.GetGrainId());
        _membership = membership;
        _metadata = metadata;
        _options = options.Value;
        _maps = maps;
        _logger = logger;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(OnRebalanceTimer, new GrainTimerCreationOptions(_options.RebalancePeriod, _options.RebalancePeriod)
        {
            Interleave = true, // the pass takes the gate itself; map reads go on meanwhile
            KeepAlive = true,  // the rebalancer must keep running while no one calls
        });
        return Task.CompletedTask;
    }

    /// <summary>
    /// Loads the persisted state on first use rather than at activation, so that a database failure is an error of
    /// the call (typed by the store's grain call filter), not a failed activation handed to callers untranslated.
    /// </summary>
    private Task LoadAsync() => _loaded ? Task.CompletedTask : _loading ??= LoadCoreAsync();

    // Calls interleave (the grain is reentrant): they share one read rather than each replacing the state.
    private async Task LoadCoreAsync()
    {
        try
        {
            await _state.ReadStateAsync();
            _published = _state.State.Map;
            _loaded = true;
        }
        finally
        {
            _loading = null;
        }
    }

    /// <summary>
    /// Writes the state and only then shows its map to readers: a step is decided on the in-memory state, and a map
    /// that is not yet durable (or that loses to another activation's write) must never be handed out.
    /// </summary>
    private async Task PersistAsync()
    {
        await _state.WriteStateAsync();
        _published = _state.State.Map;
    }

    public async Task<ShardMap?> GetShardMap()
    {
        await LoadAsync();
        if (_published is { } map)
        {
            return map;
        }

        await _gate.WaitAsync();
        try
        {
            return await CreateMapAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ShardMap?> CreateMapAsync()
    {
        await LoadAsync();
        if (_state.State.Map is { } existing)
        {
            return existing;
        }

        var silos = ActiveSilos();
        if (silos.Count < _options.RequiredSilos)
        {
            LogWaiting(silos.Count, _options.RequiredSilos);
            return null;
        }

        var created = ShardMapBuilder.Build(_options.InitialShards, _options.ReplicationFactor, silos);
        _state.State.Map = created;
        try
        {
            await PersistAsync();
        }
        catch (InconsistentStateException)
        {
            await _state.ReadStateAsync();
            _published = _state.State.Map;
            return _published;
        }

        LogCreated(created.Version, created.Shards.Count, _options.ReplicationFactor, string.Join(", ", silos.Select(s => $"{s.SiloKey} ({s.Region}/{s.Zone})")));
        return created;
    }

    private List<SiloInfo> ActiveSilos()
    {
        var result = new List<SiloInfo>();
        foreach (var member in _membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status != SiloStatus.Active)
            {
                continue;
            }

            var meta = _metadata.GetSiloMetadata(member.SiloAddress).Metadata;
            result.Add(new SiloInfo(
                SiloKeys.Of(member),
                meta.TryGetValue(SiloMetadataKeys.Region, out var region) ? region : "default",
                meta.TryGetValue(SiloMetadataKeys.Zone, out var zone) ? zone : "default",
                1));
        }

        return result.OrderBy(s => s.SiloKey, StringComparer.Ordinal).ToList();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard map not created yet: {Active} of {Required} silos active")]
    private partial void LogWaiting(int active, int required);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard map v{Version}: {Moves} replica moves and {Leaders} preferred-leader changes planned: {Detail}")]
    private partial void LogPlanned(long version, int moves, int leaders, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Shard}/{Replica} moved to silo {Silo} in {Seconds:0.0} s")]
    private partial void LogMoveDone(int shard, long replica, string silo, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Move of replica {Shard}/{Replica} to silo {Silo} dropped: that silo left or the map changed; it will be placed again")]
    private partial void LogMoveDropped(int shard, long replica, string silo);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Asking replica {Shard}/{Replica} to move failed: {Reason} (asked again later)")]
    private partial void LogAskFailed(int shard, long replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} given up after {Seconds:0} s away: its replicas are placed elsewhere")]
    private partial void LogGivenUp(string silo, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebalancer pass failed: {Reason}")]
    private partial void LogPassFailed(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is being drained (asked by {Who})")]
    private partial void LogDraining(string silo, string who);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is no longer drained")]
    private partial void LogUndrained(string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created shard map v{Version}: {Shards} shards x {Replicas} replicas over {Silos}")]
    private partial void LogCreated(long version, int shards, int replicas, string silos);
}
