using System.Buffers.Binary;
using System.Text;

namespace Storage.StateMachine;

/// <summary>
/// A minimal growable little-endian writer with LEB128 varints, shared by the command codec and the
/// snapshot format. Hand-rolled rather than BinaryWriter so the layout is explicit and allocation-light.
/// </summary>
internal sealed class BinaryBufferWriter
{
    private byte[] _buffer;
    private int _length;

    public BinaryBufferWriter(int initialCapacity = 256) => _buffer = new byte[Math.Max(16, initialCapacity)];

    public int Length => _length;

    /// <summary>The bytes written so far (a view, valid until the next write).</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void WriteByte(byte value) => GetSpan(1)[0] = value;

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(GetSpan(bytes.Length));

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(GetSpan(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(GetSpan(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(GetSpan(8), value);

    public void WriteVarUInt64(ulong value)
    {
        var span = GetSpan(VarIntSize(value));
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i] = (byte)value;
    }

    public void WriteGuid(Guid value)
    {
        if (!value.TryWriteBytes(GetSpan(16)))
        {
            throw new InvalidOperationException("unreachable: a Guid is 16 bytes");
        }
    }

    /// <summary>Length-prefixed bytes.</summary>
    public void WriteLengthPrefixed(ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt64((ulong)bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>Length-prefixed UTF-8; strict, so a string that is not valid UTF-16 fails instead of being mangled.</summary>
    public void WriteString(string value)
    {
        int count = Utf8.Strict.GetByteCount(value);
        WriteVarUInt64((ulong)count);
        Utf8.Strict.GetBytes(value, GetSpan(count));
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public static int VarIntSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    // Reserves and returns the next `count` bytes, advancing the length.
    private Span<byte> GetSpan(int count)
    {
        if (_length + count > _buffer.Length)
        {
            long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + count);
            if (wanted > Array.MaxLength)
            {
                wanted = (long)_length + count <= Array.MaxLength
                    ? Array.MaxLength
                    : throw new InvalidOperationException($"buffer would exceed {Array.MaxLength} bytes");
            }

            Array.Resize(ref _buffer, (int)wanted);
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}

/// <summary>Strict UTF-8: throws on lone surrogates (encode) and invalid sequences (decode) instead of substituting U+FFFD.</summary>
internal static class Utf8
{
    public static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
