using System.Buffers.Binary;
using System.IO.Hashing;

namespace Storage.StateMachine;

/// <summary>
/// The snapshot (checkpoint) image of a <see cref="KvStateMachine"/>.
/// <para>Format version 2, little-endian, varints are unsigned LEB128 (minimal):</para>
/// <code>
/// 4       magic "SKVS"
/// uint16  format version (2)
/// varint  applied index
/// varint  options.ClientIdleEntries, varint options.MaxClients
/// varint  range version; if above 0: uint64 range start, uint64 range end   (absent in version 1)
/// varint  key count, then per key in ordinal order:
///           varint key length, key UTF-8, varint version, varint value length, value
/// varint  session count, then per session, least recently seen first:
///           16 client id, varint last sequence, varint last index,
///           byte status, then Applied: varint version, byte existed | Conflict: varint expected, varint actual
/// uint64  XxHash64 (seed 0) of every byte before it
/// </code>
/// Equal states give equal bytes (ordered keys, ordered sessions, minimal varints), so replicas can compare
/// snapshot checksums to detect divergence. Reading checks the checksum first, then every invariant the
/// writer guarantees (key order, version and index ranges, session order), so a corrupt or hand-edited
/// image is rejected rather than restored into a state no replica ever had.
/// Version 1 (written before shards could split) is still read: it has no range fields and means a shard that never
/// split (range version 0). The range is not taken from the shard map at restore because the map may already be
/// ahead of the log (a split published, not yet applied here): the state must remain a function of the log alone.
/// Limited to <see cref="Array.MaxLength"/> bytes; a streaming format can replace it under a new version.
/// </summary>
internal static class KvSnapshotFormat
{
    public const ushort FormatVersion = 2;

    /// <summary>The format before ranges; still read.</summary>
    public const ushort FormatVersionWithoutRange = 1;

    private const string What = "KV snapshot";
    private static ReadOnlySpan<byte> Magic => "SKVS"u8;
    private const int ChecksumBytes = 8;

    public static byte[] Write(KvStateMachine machine)
    {
        var w = new BinaryBufferWriter(checked((int)Math.Min(Array.MaxLength, 64 + machine.DataBytes + (machine.Count * 8L) + (machine.TrackedClientCount * 40L))));
        w.WriteBytes(Magic);
        w.WriteUInt16(FormatVersion);
        w.WriteVarUInt64((ulong)machine.AppliedIndex);
        w.WriteVarUInt64((ulong)machine.Options.ClientIdleEntries);
        w.WriteVarUInt64((ulong)machine.Options.MaxClients);
        w.WriteVarUInt64((ulong)machine.RangeVersion);
        if (machine.RangeVersion > 0)
        {
            w.WriteUInt64(machine.RangeStart);
            w.WriteUInt64(machine.RangeEnd);
        }

        w.WriteVarUInt64((ulong)machine.Count);
        foreach (var (key, value) in machine.EnumerateOrdered())
        {
            w.WriteString(key);
            w.WriteVarUInt64((ulong)value.Version);
            w.WriteLengthPrefixed(value.Value);
        }

        w.WriteVarUInt64((ulong)machine.TrackedClientCount);
        foreach (var s in machine.EnumerateSessions())
        {
            w.WriteGuid(s.ClientId);
            w.WriteVarUInt64((ulong)s.LastSequence);
            w.WriteVarUInt64((ulong)s.LastIndex);
            WriteResult(w, s.LastResult);
        }

        w.WriteUInt64(XxHash64.HashToUInt64(w.WrittenSpan));
        return w.ToArray();
    }

    public static KvStateMachine Read(ReadOnlySpan<byte> buffer)
    {
        int headerBytes = Magic.Length + 2;
        if (buffer.Length < headerBytes || !buffer[..Magic.Length].SequenceEqual(Magic))
        {
            throw new BinaryFormatException($"{What}: missing magic 'SKVS' (not a KV snapshot, or truncated to {buffer.Length} bytes)");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(buffer[Magic.Length..]);
        if (version != FormatVersion && version != FormatVersionWithoutRange)
        {
            throw new BinaryFormatException($"{What}: unsupported format version {version} (this build reads versions {FormatVersionWithoutRange} and {FormatVersion})");
        }

        if (buffer.Length < headerBytes + ChecksumBytes)
        {
            throw new BinaryFormatException($"{What}: truncated to {buffer.Length} bytes");
        }

        var body = buffer[..^ChecksumBytes];
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(buffer[^ChecksumBytes..]);
        ulong actual = XxHash64.HashToUInt64(body);
        if (stored != actual)
        {
            throw new BinaryFormatException($"{What}: checksum mismatch (stored {stored:x16}, computed {actual:x16}); the snapshot is corrupt");
        }

        var r = new BinaryBufferReader(body, What);
        r.ReadBytes(headerBytes, "header");
        long appliedIndex = r.ReadVarInt63("applied index");

        int at = r.Position;
        long idle = r.ReadVarInt63("client idle entries");
        long maxClients = r.ReadVarInt63("max clients");
        if (idle < 1 || maxClients < 1 || maxClients > int.MaxValue)
        {
            throw r.Error($"invalid options (idle entries {idle}, max clients {maxClients})", at);
        }

        var options = new KvStateMachineOptions { ClientIdleEntries = idle, MaxClients = (int)maxClients };

        long rangeVersion = 0;
        ulong rangeStart = 0, rangeEnd = ulong.MaxValue;
        if (version >= FormatVersion)
        {
            at = r.Position;
            rangeVersion = r.ReadVarInt63("range version");
            if (rangeVersion > 0)
            {
                rangeStart = (ulong)r.ReadInt64("range start");
                rangeEnd = (ulong)r.ReadInt64("range end");
                if (rangeEnd < rangeStart)
                {
                    throw r.Error($"range [{rangeStart:x16}, {rangeEnd:x16}] is empty", at);
                }
            }
        }

        // Smallest key record: 1 key length + 1 version + 1 value length (bounds the count against the bytes left).
        int keyCount = r.ReadLength("key count", minBytesPerItem: 3);
        var ordered = new List<(string, KvStateMachine.StoredValue)>(keyCount);
        string? previous = null;
        for (int i = 0; i < keyCount; i++)
        {
            at = r.Position;
            string key = r.ReadString("key");
            if (previous is not null && string.CompareOrdinal(previous, key) >= 0)
            {
                throw r.Error($"key #{i} is not in strictly ascending ordinal order", at);
            }

            if (rangeVersion > 0 && KeyHash.Of(key) is var hash && (hash < rangeStart || hash > rangeEnd))
            {
                throw r.Error($"key #{i} hashes to {hash:x16}, outside the range [{rangeStart:x16}, {rangeEnd:x16}]", at);
            }

            at = r.Position;
            long keyVersion = r.ReadVarInt63("version");
            if (keyVersion < 1 || keyVersion > appliedIndex)
            {
                throw r.Error($"version {keyVersion} of key #{i} is outside [1, applied index {appliedIndex}]", at);
            }

            byte[] value = r.ReadLengthPrefixed("value").ToArray();
            ordered.Add((key, new KvStateMachine.StoredValue(value, keyVersion)));
            previous = key;
        }

        // Smallest session record: 16 id + 1 sequence + 1 index + 1 status + 2 result fields.
        at = r.Position;
        int sessionCount = r.ReadLength("session count", minBytesPerItem: 21);
        if (sessionCount > maxClients)
        {
            throw r.Error($"{sessionCount} sessions exceed max clients {maxClients}", at);
        }

        var sessions = new List<ClientSession>(sessionCount);
        var seen = new HashSet<Guid>();
        long previousIndex = 0;
        for (int i = 0; i < sessionCount; i++)
        {
            at = r.Position;
            var clientId = r.ReadGuid("client id");
            if (clientId == Guid.Empty || !seen.Add(clientId))
            {
                throw r.Error($"session #{i} has an empty or duplicated client id", at);
            }

            at = r.Position;
            long sequence = r.ReadVarInt63("last sequence");
            long lastIndex = r.ReadVarInt63("last index");
            // Each index touches one client, so last indexes strictly ascend; an idle one would have been evicted.
            if (sequence < 1 || lastIndex <= previousIndex || lastIndex > appliedIndex || appliedIndex - lastIndex > idle)
            {
                throw r.Error($"session #{i} (sequence {sequence}, last index {lastIndex}) is out of order or range", at);
            }

            var result = ReadResult(ref r, lastIndex, i);
            sessions.Add(new ClientSession(clientId, sequence, result, lastIndex));
            previousIndex = lastIndex;
        }

        r.EnsureEnd();
        var machine = new KvStateMachine(options);
        machine.LoadRestored(appliedIndex, ordered, sessions);
        if (rangeVersion > 0)
        {
            machine.SetRange(rangeStart, rangeEnd, rangeVersion);
        }
        return machine;
    }

    private static void WriteResult(BinaryBufferWriter w, KvApplyResult result)
    {
        w.WriteByte((byte)result.Status);
        switch (result.Status)
        {
            case KvApplyStatus.Applied:
                w.WriteVarUInt64((ulong)result.Version);
                w.WriteByte(result.Existed ? (byte)1 : (byte)0);
                break;
            case KvApplyStatus.Conflict:
                w.WriteVarUInt64((ulong)result.ExpectedVersion);
                w.WriteVarUInt64((ulong)result.ActualVersion);
                break;
            default:
                // Stale answers are never remembered, so they never reach a snapshot.
                throw new InvalidOperationException($"cannot snapshot a remembered result with status {result.Status}");
        }
    }

    private static KvApplyResult ReadResult(ref BinaryBufferReader r, long lastIndex, int sessionNumber)
    {
        int at = r.Position;
        byte status = r.ReadByte("result status");
        switch ((KvApplyStatus)status)
        {
            case KvApplyStatus.Applied:
            {
                long version = r.ReadVarInt63("result version");
                byte existed = r.ReadByte("result existed");
                if (version > lastIndex || existed > 1)
                {
                    throw r.Error($"session #{sessionNumber} result (version {version}, existed {existed}) is out of range", at);
                }

                return KvApplyResult.Applied(version, existed == 1);
            }

            case KvApplyStatus.Conflict:
            {
                long expected = r.ReadVarInt63("result expected version");
                long actual = r.ReadVarInt63("result actual version");
                if (expected == actual || actual > lastIndex)
                {
                    throw r.Error($"session #{sessionNumber} conflict (expected {expected}, actual {actual}) is inconsistent", at);
                }

                return KvApplyResult.Conflict(expected, actual);
            }

            default:
                throw r.Error($"session #{sessionNumber} has unknown result status {status}", at);
        }
    }
}
