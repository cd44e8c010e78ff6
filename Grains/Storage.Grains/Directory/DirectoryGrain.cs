using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Storage;

namespace Storage.Directory;

/// <summary>
/// Makes the first shard map from the active silos (their region and zone from silo metadata) and keeps
/// it persisted. Brief duplicate activations are harmless: the storage ETag lets only one map win and
/// the other activation adopts it.
/// </summary>
public sealed partial class DirectoryGrain : Grain, IDirectoryGrain
{
    private readonly GrainStateSlot<DirectoryState> _state;
    private readonly IClusterMembershipService _membership;
    private readonly ISiloMetadataCache _metadata;
    private readonly DirectoryOptions _options;
    private readonly ShardMapCache _maps;
    private readonly ILogger<DirectoryGrain> _logger;
    private bool _loaded;

    public DirectoryGrain(
        [FromKeyedServices(StorageProviders.Checkpoints)] IGrainStorage storage,
        IClusterMembershipService membership,
        ISiloMetadataCache metadata,
        IOptions<DirectoryOptions> options,
        ShardMapCache maps,
        ILogger<DirectoryGrain> logger)
    {
        _state = new GrainStateSlot<DirectoryState>(storage, "directory", this.GetGrainId());
        _membership = membership;
        _metadata = metadata;
        _options = options.Value;
        _maps = maps;
        _logger = logger;
    }

    /// <summary>
    /// Loads the persisted state on first use rather than at activation, so that a database failure is an error of
    /// the call (typed by the store's grain call filter), not a failed activation handed to callers untranslated.
    /// </summary>
    private async Task LoadAsync()
    {
        if (!_loaded)
        {
            await _state.ReadStateAsync();
            _loaded = true;
        }
    }

    public async Task<ShardMap?> GetShardMap()
    {
        await LoadAsync();
        if (_state.State.Map is { } map)
        {
            return map;
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
            await _state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            await _state.ReadStateAsync();
            return _state.State.Map;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is being drained (asked by {Who})")]
    private partial void LogDraining(string silo, string who);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is no longer drained")]
    private partial void LogUndrained(string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created shard map v{Version}: {Shards} shards x {Replicas} replicas over {Silos}")]
    private partial void LogCreated(long version, int shards, int replicas, string silos);
}
