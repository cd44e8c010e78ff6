using System.Buffers.Binary;
using Storage.Raft;

namespace Storage.Shards;

/// <summary>
/// Binary encoding of a batch of Raft messages for the one-way grain call between replicas. The core
/// stays free of Orleans; this compact format also avoids per-field serializer overhead on the hot path.
/// </summary>
public static class RaftWireCodec
{
    private const byte Version = 1;

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

    public static List<Message> Decode(byte[] buffer)
    {
        try
        {
            var r = new SpanReader(buffer);
            if (r.Byte() != Version)
            {
                throw new FormatException("unknown Raft wire format version");
            }

            var count = r.Int32();
            var result = new List<Message>(count);
            for (var i = 0; i < count; i++)
            {
                var type = (MessageType)r.Byte();
                var from = r.Int64();
                var to = r.Int64();
                var term = r.Int64();
                var logTerm = r.Int64();
                var index = r.Int64();
                var commit = r.Int64();
                var hint = r.Int64();
                var context = r.Int64();
                var flags = r.Byte();
                var entryCount = r.Int32();
                var entries = entryCount == 0 ? Array.Empty<Entry>() : new Entry[entryCount];
                for (var j = 0; j < entryCount; j++)
                {
                    entries[j] = ReadEntry(ref r);
                }

                Snapshot? snapshot = null;
                if ((flags & 4) != 0)
                {
                    var sIndex = r.Int64();
                    var sTerm = r.Int64();
                    var voters = ReadIds(ref r);
                    var learners = ReadIds(ref r);
                    snapshot = new Snapshot(new SnapshotMetadata(sIndex, sTerm, new ConfState(voters, learners)), r.Bytes());
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

            if (!r.AtEnd)
            {
                throw new FormatException("trailing bytes after Raft message batch");
            }

            return result;
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException("truncated Raft message batch", e);
        }
    }

    private static int MessageSize(Message m)
    {
        var size = 1 + 8 * 8 + 1 + 4;
        foreach (var e in m.Entries)
        {
            size += 8 + 8 + 1 + 4 + e.Data.Length;
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

    private static Entry ReadEntry(ref SpanReader r)
    {
        var term = r.Int64();
        var index = r.Int64();
        var type = (EntryType)r.Byte();
        return new Entry(term, index, type, r.Bytes());
    }

    private static void WriteIds(ref SpanWriter w, IReadOnlyList<long> ids)
    {
        w.Int32(ids.Count);
        foreach (var id in ids)
        {
            w.Int64(id);
        }
    }

    private static long[] ReadIds(ref SpanReader r)
    {
        var n = r.Int32();
        if (n < 0 || n > 1024)
        {
            throw new FormatException($"implausible member count {n}");
        }

        var ids = new long[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = r.Int64();
        }

        return ids;
    }

    private ref struct SpanWriter
    {
        private readonly Span<byte> span;
        private int pos;

        public SpanWriter(Span<byte> span)
        {
            this.span = span;
            pos = 0;
        }

        public void Byte(byte v) => span[pos++] = v;

        public void Int32(int v)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], v);
            pos += 4;
        }

        public void Int64(long v)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[pos..], v);
            pos += 8;
        }

        public void Bytes(byte[] data)
        {
            Int32(data.Length);
            data.CopyTo(span[pos..]);
            pos += data.Length;
        }
    }

    private ref struct SpanReader
    {
        private readonly ReadOnlySpan<byte> span;
        private int pos;

        public SpanReader(ReadOnlySpan<byte> span)
        {
            this.span = span;
            pos = 0;
        }

        public bool AtEnd => pos == span.Length;

        public byte Byte() => pos < span.Length ? span[pos++] : throw new ArgumentOutOfRangeException(nameof(span));

        public int Int32()
        {
            var v = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(pos, 4));
            pos += 4;
            return v;
        }

        public long Int64()
        {
            var v = BinaryPrimitives.ReadInt64LittleEndian(span.Slice(pos, 8));
            pos += 8;
            return v;
        }

        public byte[] Bytes()
        {
            var n = Int32();
            if (n < 0 || n > span.Length - pos)
            {
                throw new FormatException($"byte string of {n} bytes overruns the batch");
            }

            var data = span.Slice(pos, n).ToArray();
            pos += n;
            return data;
        }
    }
}
