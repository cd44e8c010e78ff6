using System.Buffers.Binary;
using System.Text;

namespace Storage.StateMachine;

/// <summary>
/// The one bounds-checked reader of every binary format the grains decode from disk or the network: KV commands
/// and snapshots (the counterpart of <see cref="BinaryBufferWriter"/>) and Raft message batches
/// (the replicas' wire codec). Every read checks the remaining length first, and every count or length
/// is checked against the bytes left (at the smallest size of one item) before the caller allocates for it, so a
/// truncated, corrupt or hostile buffer throws <see cref="BinaryFormatException"/> (naming what was being read
/// and where) and can never be silently misread or trigger a huge allocation.
/// </summary>
internal ref struct BinaryBufferReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _what;
    private int _position;

    public BinaryBufferReader(ReadOnlySpan<byte> buffer, string what)
    {
        _buffer = buffer;
        _what = what;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public byte ReadByte(string field) => Take(1, field)[0];

    public ushort ReadUInt16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public int ReadInt32(string field) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, field));

    public long ReadInt64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

    public ReadOnlySpan<byte> ReadBytes(int count, string field) => Take(count, field);

    public ulong ReadVarUInt64(string field)
    {
        int start = _position;
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = ReadByte(field);
            // The 10th byte may only carry the top bit of a 64-bit value.
            if (shift == 63 && b > 1)
            {
                throw Error($"varint {field} overflows 64 bits", start);
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                // Reject non-minimal encodings (e.g. 0x80 0x00) so each value has exactly one encoding:
                // that keeps snapshots of equal states byte-for-byte equal.
                if (b == 0 && _position - start > 1)
                {
                    throw Error($"varint {field} is not minimally encoded", start);
                }

                return result;
            }
        }

        throw Error($"varint {field} is longer than 10 bytes", start);
    }

    /// <summary>A varint that must fit a non-negative long (versions, indexes, sequences).</summary>
    public long ReadVarInt63(string field)
    {
        int start = _position;
        ulong value = ReadVarUInt64(field);
        return value <= long.MaxValue ? (long)value : throw Error($"{field} {value} exceeds {long.MaxValue}", start);
    }

    /// <summary>A varint count or length, checked against what is left so a corrupt length cannot allocate gigabytes.</summary>
    public int ReadLength(string field, int minBytesPerItem = 1)
    {
        int start = _position;
        ulong value = ReadVarUInt64(field);
        if (value > (ulong)Remaining / (ulong)Math.Max(1, minBytesPerItem))
        {
            throw Error($"{field} {value} exceeds the {Remaining} bytes left", start);
        }

        return (int)value;
    }

    public ReadOnlySpan<byte> ReadLengthPrefixed(string field) => Take(ReadLength(field), field);

    /// <summary>
    /// A fixed-width (little-endian int32) count or length: refused if negative or if
    /// <paramref name="minBytesPerItem"/> bytes per item would overrun what is left.
    /// </summary>
    public int ReadInt32Length(string field, int minBytesPerItem = 1)
    {
        int start = _position;
        int value = ReadInt32(field);
        if (value < 0)
        {
            throw Error($"{field} {value} is negative", start);
        }

        if ((ulong)value > (ulong)Remaining / (ulong)Math.Max(1, minBytesPerItem))
        {
            throw Error($"{field} {value} exceeds the {Remaining} bytes left", start);
        }

        return value;
    }

    /// <summary>Bytes after a fixed-width int32 length (see <see cref="ReadInt32Length"/>).</summary>
    public ReadOnlySpan<byte> ReadInt32LengthPrefixed(string field) => Take(ReadInt32Length(field), field);

    public string ReadString(string field)
    {
        int start = _position;
        var bytes = ReadLengthPrefixed(field);
        try
        {
            return Utf8.Strict.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new BinaryFormatException($"{_what}: {field} at offset {start} is not valid UTF-8", e);
        }
    }

    public Guid ReadGuid(string field) => new(Take(16, field));

    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw Error($"{Remaining} unexpected trailing bytes", _position);
        }
    }

    public readonly BinaryFormatException Error(string problem, int offset) => new($"{_what}: {problem} (offset {offset})");

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count < 0 || count > Remaining)
        {
            throw Error($"truncated while reading {field}: need {count} bytes, {Remaining} left", _position);
        }

        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }
}
