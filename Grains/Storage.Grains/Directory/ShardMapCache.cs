namespace Storage.Directory;

/// <summary>The silo's cached copy of the shard map, shared by routers, the placement director and the keeper.</summary>
public sealed class ShardMapCache
{
    private readonly IGrainFactory _grains;
    private ShardMap? _current;

    public ShardMapCache(IGrainFactory grains) => _grains = grains;

    public ShardMap? Current => Volatile.Read(ref _current);

    /// <summary>The cached map, or the directory's when none is cached or <paramref name="refresh"/> is set.</summary>
    public async Task<ShardMap> GetAsync(CancellationToken ct = default, bool refresh = false)
    {
        if (!refresh && Current is { } cached)
        {
            return cached;
        }

        var map = await _grains.GetGrain<IDirectoryGrain>(0).GetShardMap().WaitAsync(ct)
            ?? throw new ShardUnavailableException("the cluster is still starting: no shard map yet (waiting for enough silos to join)");
        Update(map);
        return Current!;
    }

    public void Update(ShardMap map)
    {
        while (true)
        {
            var seen = Current;
            if (seen is not null && seen.Version >= map.Version)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _current, map, seen) == seen)
            {
                return;
            }
        }
    }
}
