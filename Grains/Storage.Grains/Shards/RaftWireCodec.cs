using System.Buffers.Binary;
using Storage.Raft;
using Storage.StateMachine;

namespace Storage.Shards;

/// <summary>
/// Binary encoding of a batch of Raft messages for the one-way grain call between replicas. The core
/// stays free of Orleans; this compact format also avoids per-field serializer overhead on the hot path.
/// </summary>
public static class RaftWireCodec
{
    private const byte Version = 1;
    private const string What = "Raft message batch";
    private const int MaxMembers = 1024;

    // The smallest encodings, the bound for a count read from the wire: a message without entries or snapshot
    // (type, eight longs, flags, entry count) and an entry without data (term, index, type, data length).
    private const int MinMessageBytes = 1 + (8 * 8) + 1 + 4;
    private const int MinEntryBytes = 8 + 8 + 1 + 4;

    public static byte[] Encode(IReadOnlyList<Message> messages)
    {
        var size = 5;
        foreach (var m in messages)
        {
            size += MessageSize(m);
        }

        var buffer = new byte[size];
        var w = new SpanWriter(buffer);
        w.Byte(Version);
        w.Int32(messages.Count);
        foreach (var m in messages)
        {
            w.Byte((byte)m.Type);
            w.Int64(m.From);
            w.Int64(m.To);
            w.Int64(m.Term);
            w.Int64(m.LogTerm);
            w.Int64(m.Index);
            w.Int64(m.Commit);
            w.Int64(m.RejectHint);
            w.Int64(m.Context);
            w.Byte((byte)((m.Reject ? 1 : 0) | (m.Transfer ? 2 : 0) | (m.Snapshot is null ? 0 : 4)));
            w.Int32(m.Entries.Count);
            foreach (var e in m.Entries)
            {
                WriteEntry(ref w, e);
            }

            if (m.Snapshot is { } s)
            {
                w.Int64(s.Index);
                w.Int64(s.Term);
                WriteIds(ref w, s.Metadata.ConfState.Voters);
                WriteIds(ref w, s.Metadata.ConfState.Learners);
                w.Bytes(s.Data);
            }
        }

        return buffer;
    }

    /// <summary>
    /// Decodes a batch; throws <see cref="BinaryFormatException"/> for anything but a well-formed batch. The bytes
    /// come from the network, so every count and length is checked against what the batch can still hold before
    /// anything is allocated for it: a hostile or corrupt batch costs no more memory than its own size.
    /// </summary>
    public static List<Message> Decode(byte[] buffer)
    {
        var r = new BinaryBufferReader(buffer, What);
        var version = r.ReadByte("format version");
        if (version != Version)
        {
            throw r.Error($"unknown Raft wire format version {version}", 0);
        }

        var count = r.ReadInt32Length("message count", MinMessageBytes);
        var result = new List<Message>(count);
        for (var i = 0; i < count; i++)
        {
            var type = (MessageType)r.ReadByte("message type");
            var from = r.ReadInt64("from");
            var to = r.ReadInt64("to");
            var term = r.ReadInt64("term");
            var logTerm = r.ReadInt64("log term");
            var index = r.ReadInt64("index");
            var commit = r.ReadInt64("commit");
            var hint = r.ReadInt64("reject hint");
            var context = r.ReadInt64("context");
            var flags = r.ReadByte("flags");
            var entryCount = r.ReadInt32Length("entry count", MinEntryBytes);
            var entries = entryCount == 0 ? Array.Empty<Entry>() : new Entry[entryCount];
            for (var j = 0; j < entryCount; j++)
            {
                entries[j] = ReadEntry(ref r);
            }

            Snapshot? snapshot = null;
            if ((flags & 4) != 0)
            {
                var sIndex = r.ReadInt64("snapshot index");
                var sTerm = r.ReadInt64("snapshot term");
                var voters = ReadIds(ref r, "voter count");
                var learners = ReadIds(ref r, "learner count");
                snapshot = new Snapshot(new SnapshotMetadata(sIndex, sTerm, new ConfState(voters, learners)), r.ReadInt32LengthPrefixed("snapshot data").ToArray());
            }

            result.Add(new Message
            {
                Type = type,
                From = from,
                To = to,
                Term = term,
                LogTerm = logTerm,
                Index = index,
                Commit = commit,
                RejectHint = hint,
                Context = context,
                Reject = (flags & 1) != 0,
                Transfer = (flags & 2) != 0,
                Entries = entries,
                Snapshot = snapshot,
            });
        }

        r.EnsureEnd();
        return result;
    }

    private static int MessageSize(Message m)
    {
        var size = MinMessageBytes;
        foreach (var e in m.Entries)
        {
            size += MinEntryBytes + e.Data.Length;
        }

        if (m.Snapshot is { } s)
        {
            size += 16 + 4 + 8 * s.Metadata.ConfState.Voters.Count + 4 + 8 * s.Metadata.ConfState.Learners.Count + 4 + s.Data.Length;
        }

        return size;
    }

    private static void WriteEntry(ref SpanWriter w, Entry e)
    {
        w.Int64(e.Term);
        w.Int64(e.Index);
        w.Byte((byte)e.Type);
        w.Bytes(e.Data);
    }

    private static Entry ReadEntry(ref BinaryBufferReader r)
    {
        var term = r.ReadInt64("entry term");
        var index = r.ReadInt64("entry index");
        var type = (EntryType)r.ReadByte("entry type");
        return new Entry(term, index, type, r.ReadInt32LengthPrefixed("entry data").ToArray());
    }

    private static void WriteIds(ref SpanWriter w, IReadOnlyList<long> ids)
    {
        w.Int32(ids.Count);
        foreach (var id in ids)
        {
            w.Int64(id);
        }
    }

    private static long[] ReadIds(ref BinaryBufferReader r, string field)
    {
        var start = r.Position;
        var n = r.ReadInt32Length(field, sizeof(long));
        if (n > MaxMembers)
        {
            throw r.Error($"implausible {field} {n}", start);
        }

        var ids = new long[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = r.ReadInt64("member id");
        }

        return ids;
    }

    private ref struct SpanWriter
    {
        private readonly Span<byte> _span;
        private int _position;

        public SpanWriter(Span<byte> span)
        {
            _span = span;
            _position = 0;
        }

        public void Byte(byte v) => _span[_position++] = v;

        public void Int32(int v)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_span[_position..], v);
            _position += 4;
        }

        public void Int64(long v)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_span[_position..], v);
            _position += 8;
        }

        public void Bytes(byte[] data)
        {
            Int32(data.Length);
            data.CopyTo(_span[_position..]);
            _position += data.Length;
        }
    }
}
