using System.Collections.Concurrent;

namespace Storage.Shards;

/// <summary>The replica activations on this silo (keys), so that shutdown can reach every local leader.</summary>
public sealed class LocalReplicas
{
    private readonly ConcurrentDictionary<string, byte> keys = new();

    public void Add(string key) => keys[key] = 0;

    public void Remove(string key) => keys.TryRemove(key, out _);

    public IReadOnlyCollection<string> Keys => keys.Keys.ToList();
}
