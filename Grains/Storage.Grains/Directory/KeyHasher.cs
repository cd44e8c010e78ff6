namespace Storage.Directory;

/// <summary>
/// Key → 64-bit ring position. Delegates to <see cref="KeyHash"/> in Grains.Interfaces so that the directory,
/// the routers and <see cref="ShardMap.ShardFor(string)"/> can never disagree about a key's shard.
/// </summary>
public static class KeyHasher
{
    public static ulong Hash(string key) => KeyHash.Of(key);

    public static ulong HashUtf8(ReadOnlySpan<byte> utf8Key) => KeyHash.OfUtf8(utf8Key);
}
