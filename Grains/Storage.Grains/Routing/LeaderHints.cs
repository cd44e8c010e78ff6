using System.Collections.Concurrent;

namespace Storage.Routing;

/// <summary>The last leader each shard was seen with, shared by the router activations of a silo.</summary>
public sealed class LeaderHints
{
    private readonly ConcurrentDictionary<int, long> _leaders = new();

    public long? Get(int shard) => _leaders.TryGetValue(shard, out var r) ? r : null;

    public void Set(int shard, long replica) => _leaders[shard] = replica;

    public void Forget(int shard, long replica) => _leaders.TryRemove(new KeyValuePair<int, long>(shard, replica));
}
