using System.Buffers.Binary;
using System.IO.Hashing;

namespace Storage.StateMachine;

/// <summary>
/// The binary form of a <see cref="KvCommand"/> as stored in the Raft log.
/// <para>Format version 1, little-endian, varints are unsigned LEB128 (minimal):</para>
/// <code>
/// byte    format version (1)
/// byte    kind (KvCommandKind)
/// 16      client id (Guid bytes)
/// varint  sequence (>= 1)
/// varint  key length, then key UTF-8
/// [CAS, CompareAndDelete] varint expected version
/// [Put, CAS]              varint value length, then value bytes
/// uint32  CRC-32 of every byte before it
/// </code>
/// <para>A <see cref="SplitCommand"/> (kind 5) has the same first two bytes and checksum, with its own body:</para>
/// <code>
/// uint64  parent range start, uint64 parent range end, uint64 split point
/// varint  new shard id, varint new map version
/// varint  replica count n, then n x (varint parent replica id, varint child replica id)
/// </code>
/// <see cref="Decode"/> reads client writes only and rejects a split, so a split cannot enter a log through the write
/// path; the replica tells the two apart with <see cref="IsSplit"/>.
/// The checksum is per entry because a log entry is read back alone (by a follower, after a restart);
/// it catches bit flips that the structural checks cannot see, e.g. inside a value.
/// </summary>
public static class KvCommandCodec
{
    public const byte FormatVersion = 1;

    private const int HeaderBytes = 2 + 16;
    private const int ChecksumBytes = 4;

    public static byte[] Encode(KvCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        int keyBytes = Utf8.Strict.GetByteCount(command.Key); // well-formed: checked by the KvCommand constructor
        ReadOnlySpan<byte> value = command switch
        {
            PutCommand put => put.Value,
            CompareAndSwapCommand cas => cas.Value,
            _ => default,
        };
        bool hasValue = command is PutCommand or CompareAndSwapCommand;
        long expected = command switch
        {
            CompareAndSwapCommand cas => cas.ExpectedVersion,
            CompareAndDeleteCommand cad => cad.ExpectedVersion,
            _ => -1,
        };

        // Size exactly, then write once: commands are encoded on every proposal.
        int size = HeaderBytes
            + BinaryBufferWriter.VarIntSize((ulong)command.WriteId.Sequence)
            + BinaryBufferWriter.VarIntSize((ulong)keyBytes) + keyBytes
            + (expected >= 0 ? BinaryBufferWriter.VarIntSize((ulong)expected) : 0)
            + (hasValue ? BinaryBufferWriter.VarIntSize((ulong)value.Length) + value.Length : 0)
            + ChecksumBytes;

        var writer = new BinaryBufferWriter(size);
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)command.Kind);
        writer.WriteGuid(command.WriteId.ClientId);
        writer.WriteVarUInt64((ulong)command.WriteId.Sequence);
        writer.WriteString(command.Key);
        if (expected >= 0)
        {
            writer.WriteVarUInt64((ulong)expected);
        }

        if (hasValue)
        {
            writer.WriteLengthPrefixed(value);
        }

        writer.WriteUInt32(Crc32.HashToUInt32(writer.WrittenSpan));
        return writer.ToArray();
    }

    /// <summary>True when <paramref name="buffer"/> is tagged as a <see cref="SplitCommand"/> (checked in full by <see cref="DecodeSplit"/>).</summary>
    public static bool IsSplit(ReadOnlySpan<byte> buffer) =>
        buffer.Length >= 2 && buffer[0] == FormatVersion && buffer[1] == (byte)KvCommandKind.Split;

    public static byte[] EncodeSplit(SplitCommand split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var writer = new BinaryBufferWriter(64 + (split.ParentReplicas.Count * 20));
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)KvCommandKind.Split);
        writer.WriteUInt64(split.ParentRangeStart);
        writer.WriteUInt64(split.ParentRangeEnd);
        writer.WriteUInt64(split.SplitAt);
        writer.WriteVarUInt64((ulong)split.NewShardId);
        writer.WriteVarUInt64((ulong)split.NewMapVersion);
        writer.WriteVarUInt64((ulong)split.ParentReplicas.Count);
        for (var k = 0; k < split.ParentReplicas.Count; k++)
        {
            writer.WriteVarUInt64((ulong)split.ParentReplicas[k]);
            writer.WriteVarUInt64((ulong)split.ChildReplicas[k]);
        }

        writer.WriteUInt32(Crc32.HashToUInt32(writer.WrittenSpan));
        return writer.ToArray();
    }

    /// <summary>Decodes a split; throws <see cref="BinaryFormatException"/> for anything but a well-formed, intact split command.</summary>
    public static SplitCommand DecodeSplit(ReadOnlySpan<byte> buffer)
    {
        const string what = "split command";
        var reader = Open(buffer, what, out var kind, out var kindOffset);
        if (kind != KvCommandKind.Split)
        {
            throw reader.Error($"kind {(byte)kind} is not a split", kindOffset);
        }

        var start = (ulong)reader.ReadInt64("parent range start");
        var end = (ulong)reader.ReadInt64("parent range end");
        var splitAt = (ulong)reader.ReadInt64("split point");
        int at = reader.Position;
        var shardId = reader.ReadVarInt63("new shard id");
        var version = reader.ReadVarInt63("new map version");
        if (shardId > int.MaxValue)
        {
            throw reader.Error($"new shard id {shardId} is out of range", at);
        }

        int count = reader.ReadLength("replica count", minBytesPerItem: 2);
        var parents = new long[count];
        var children = new long[count];
        for (var k = 0; k < count; k++)
        {
            parents[k] = reader.ReadVarInt63("parent replica id");
            children[k] = reader.ReadVarInt63("child replica id");
        }

        reader.EnsureEnd();
        try
        {
            return new SplitCommand(start, end, splitAt, (int)shardId, version, parents, children);
        }
        catch (InvalidRequestException e)
        {
            throw reader.Error($"inconsistent split: {e.Message}", at);
        }
    }

    /// <summary>Decodes a client write; throws <see cref="BinaryFormatException"/> for anything but a well-formed, intact buffer.</summary>
    public static KvCommand Decode(ReadOnlySpan<byte> buffer)
    {
        const string what = "KV command";
        var reader = Open(buffer, what, out var kind, out var kindOffset);
        if (kind == KvCommandKind.Split)
        {
            throw reader.Error("a split command is not a client write", kindOffset);
        }

        if (buffer.Length < HeaderBytes + ChecksumBytes)
        {
            throw new BinaryFormatException($"{what}: {buffer.Length} bytes is shorter than the smallest command");
        }
        var clientId = reader.ReadGuid("client id");
        int sequenceOffset = reader.Position;
        long sequence = reader.ReadVarInt63("sequence");
        if (sequence < 1 || clientId == Guid.Empty)
        {
            throw reader.Error($"invalid write id ({clientId}, {sequence})", sequenceOffset);
        }

        var writeId = new WriteId(clientId, sequence);
        string key = reader.ReadString("key");
        KvCommand command = kind switch
        {
            KvCommandKind.Put => new PutCommand(writeId, key, reader.ReadLengthPrefixed("value").ToArray()),
            KvCommandKind.Delete => new DeleteCommand(writeId, key),
            KvCommandKind.CompareAndSwap => ReadCas(ref reader, writeId, key),
            KvCommandKind.CompareAndDelete => new CompareAndDeleteCommand(writeId, key, reader.ReadVarInt63("expected version")),
            _ => throw reader.Error($"unknown command kind {(byte)kind}", kindOffset),
        };
        reader.EnsureEnd();
        return command;

        static KvCommand ReadCas(ref BinaryBufferReader reader, WriteId writeId, string key)
        {
            long expected = reader.ReadVarInt63("expected version");
            byte[] value = reader.ReadLengthPrefixed("value").ToArray();
            return new CompareAndSwapCommand(writeId, key, expected, value);
        }
    }

    /// <summary>Checks the version and the checksum and reads the kind: the common start of every command.</summary>
    private static BinaryBufferReader Open(ReadOnlySpan<byte> buffer, string what, out KvCommandKind kind, out int kindOffset)
    {
        if (buffer.Length < 1)
        {
            throw new BinaryFormatException($"{what}: empty buffer");
        }

        // Check the version before the checksum so that a newer format gets a precise message.
        if (buffer[0] != FormatVersion)
        {
            throw new BinaryFormatException($"{what}: unsupported format version {buffer[0]} (this build reads version {FormatVersion})");
        }

        if (buffer.Length < 2 + ChecksumBytes)
        {
            throw new BinaryFormatException($"{what}: {buffer.Length} bytes is shorter than the smallest command");
        }

        var body = buffer[..^ChecksumBytes];
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(buffer[^ChecksumBytes..]);
        uint actual = Crc32.HashToUInt32(body);
        if (stored != actual)
        {
            throw new BinaryFormatException($"{what}: checksum mismatch (stored {stored:x8}, computed {actual:x8}); the entry is corrupt");
        }

        var reader = new BinaryBufferReader(body, what);
        reader.ReadByte("format version");
        kindOffset = reader.Position;
        kind = (KvCommandKind)reader.ReadByte("kind");
        return reader;
    }
}
