using System.Text;

namespace Storage.Consistency;

/// <summary>
/// An immutable value, compared by content. The store deals in byte arrays; tests mostly in strings —
/// both end up here so the checker compares bytes and the renderer can still show readable text.
/// </summary>
public sealed class ValueBytes : IEquatable<ValueBytes>
{
    private const int MaxShown = 48;

    // Strict decoding: a value that is not valid UTF-8 is shown as hex instead of with replacement characters.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _bytes;
    private readonly int _hash;

    private ValueBytes(byte[] bytes)
    {
        _bytes = bytes;
        var hash = new HashCode();
        hash.AddBytes(bytes);
        _hash = hash.ToHashCode();
    }

    /// <summary>The value's bytes (a private copy: later changes to the caller's array do not leak in).</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    public int Length => _bytes.Length;

    public static ValueBytes FromBytes(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    public static ValueBytes FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new ValueBytes(Encoding.UTF8.GetBytes(value));
    }

    public static implicit operator ValueBytes(string value) => FromString(value);

    public byte[] ToArray() => (byte[])_bytes.Clone();

    public bool Equals(ValueBytes? other) =>
        other is not null && (ReferenceEquals(this, other) || (_hash == other._hash && _bytes.AsSpan().SequenceEqual(other._bytes)));

    public override bool Equals(object? obj) => Equals(obj as ValueBytes);

    public override int GetHashCode() => _hash;

    public static bool operator ==(ValueBytes? left, ValueBytes? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(ValueBytes? left, ValueBytes? right) => !(left == right);

    /// <summary>Quoted text when the bytes are printable UTF-8, otherwise 0x-hex; long values are cut.</summary>
    public override string ToString()
    {
        string? text = TryDecode();
        if (text is not null)
        {
            return text.Length <= MaxShown ? $"\"{text}\"" : $"\"{text[..MaxShown]}…\"({_bytes.Length}B)";
        }

        return _bytes.Length <= MaxShown / 2
            ? "0x" + Convert.ToHexString(_bytes)
            : "0x" + Convert.ToHexString(_bytes, 0, MaxShown / 2) + $"…({_bytes.Length}B)";
    }

    private string? TryDecode()
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(_bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        foreach (char c in text)
        {
            if (char.IsControl(c) || c == '"')
            {
                return null;
            }
        }

        return text;
    }
}
