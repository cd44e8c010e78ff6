using System.IO.Hashing;
using System.Text;

namespace Storage;

/// <summary>
/// The one key hash of the whole system: XxHash64 (seed 0) of the key's UTF-8 bytes.
/// It lives here, next to <see cref="ShardMap"/>, so that every router and the directory place a key
/// on the same shard. Changing it (algorithm, seed or encoding) would re-home every stored key: never do.
/// </summary>
public static class KeyHash
{
    // Keys are at most a few KiB (the default limit is 1 KiB), so the common path never allocates.
    private const int StackLimitBytes = 1024;

    public static ulong Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int max = Encoding.UTF8.GetMaxByteCount(key.Length);
        if (max <= StackLimitBytes)
        {
            Span<byte> buffer = stackalloc byte[StackLimitBytes];
            int written = Encoding.UTF8.GetBytes(key, buffer);
            return XxHash64.HashToUInt64(buffer[..written]);
        }

        return XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));
    }

    /// <summary>The hash of a key already encoded as UTF-8; equal to <see cref="Of(string)"/> of the decoded key.</summary>
    public static ulong OfUtf8(ReadOnlySpan<byte> utf8Key) => XxHash64.HashToUInt64(utf8Key);
}
