using System.Collections.Concurrent;

namespace Storage.Shards;

/// <summary>The replica activations on this silo (keys), so that shutdown can reach every local leader.</summary>
public sealed class LocalReplicas
{
    private readonly ConcurrentDictionary<string, byte> _keys = new();

    public void Add(string key) => _keys[key] = 0;

    public void Remove(string key) => _keys.TryRemove(key, out _);

    public IReadOnlyCollection<string> Keys => _keys.Keys.ToList();
}
