using System.Buffers.Binary;
using Storage.Raft;
using Storage.Shards;
using Storage.StateMachine;

namespace Storage.Grains.Tests.Shards;

/// <summary>
/// The Raft wire codec decodes bytes from the network: a malformed or hostile batch must be refused with
/// <see cref="BinaryFormatException"/>, and a count or length it announces must not be allocated before the
/// bytes are there.
/// </summary>
public class RaftWireCodecTests
{
    // Offsets in a batch of one message whose first entry is at the front (see RaftWireCodec.Encode).
    private const int MessageCountOffset = 1;
    private const int EntryCountOffset = 1 + 4 + 1 + (8 * 8) + 1;
    private const int FirstEntryDataLengthOffset = EntryCountOffset + 4 + 8 + 8 + 1;

    // Far below what any announced count would cost: int.MaxValue entries would be gigabytes.
    private const long AllocationBudget = 64 * 1024;

    private static readonly Message Append = new()
    {
        Type = MessageType.App,
        From = 1,
        To = 2,
        Term = 7,
        LogTerm = 6,
        Index = 41,
        Commit = 40,
        Context = 9,
        Entries = [new Entry(7, 42, EntryType.Normal, [1, 2, 3]), new Entry(7, 43, EntryType.Normal, [])],
    };

    private static readonly Message SnapshotMessage = new()
    {
        Type = MessageType.Snap,
        From = 1,
        To = 3,
        Term = 7,
        Reject = true,
        RejectHint = 5,
        Snapshot = new Snapshot(new SnapshotMetadata(100, 6, new ConfState([1, 2, 3], [4])), [9, 8, 7]),
    };

    [Fact]
    public void A_batch_round_trips()
    {
        var decoded = RaftWireCodec.Decode(RaftWireCodec.Encode([Append, SnapshotMessage]));

        Assert.Equal(2, decoded.Count);
        var app = decoded[0];
        Assert.Equal((Append.Type, Append.From, Append.To, Append.Term, Append.LogTerm, Append.Index, Append.Commit, Append.Context),
            (app.Type, app.From, app.To, app.Term, app.LogTerm, app.Index, app.Commit, app.Context));
        Assert.Equal(Append.Entries.Select(e => (e.Term, e.Index, e.Type, Convert.ToHexString(e.Data))),
            app.Entries.Select(e => (e.Term, e.Index, e.Type, Convert.ToHexString(e.Data))));
        var snap = decoded[1];
        Assert.True(snap.Reject);
        Assert.Equal(5, snap.RejectHint);
        Assert.Equal(SnapshotMessage.Snapshot!.Metadata.ConfState, snap.Snapshot!.Metadata.ConfState);
        Assert.Equal((100L, 6L), (snap.Snapshot.Index, snap.Snapshot.Term));
        Assert.Equal(new byte[] { 9, 8, 7 }, snap.Snapshot.Data);
    }

    [Fact]
    public void Every_truncation_is_refused()
    {
        var encoded = RaftWireCodec.Encode([Append, SnapshotMessage]);
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<BinaryFormatException>(() => RaftWireCodec.Decode(encoded[..length]));
        }
    }

    [Fact]
    public void Trailing_bytes_and_an_unknown_version_are_refused()
    {
        var encoded = RaftWireCodec.Encode([Append]);
        Assert.Contains("trailing", Assert.Throws<BinaryFormatException>(() => RaftWireCodec.Decode([.. encoded, 0])).Message);

        encoded[0] = 99;
        Assert.Contains("version", Assert.Throws<BinaryFormatException>(() => RaftWireCodec.Decode(encoded)).Message);
    }

    [Fact]
    public void A_message_count_of_int_MaxValue_is_refused_without_allocating_for_it()
    {
        var hostile = RaftWireCodec.Encode([Append]);
        BinaryPrimitives.WriteInt32LittleEndian(hostile.AsSpan(MessageCountOffset), int.MaxValue);

        var e = RefusedWithin(AllocationBudget, hostile);
        Assert.Contains("message count", e.Message);
    }

    [Fact]
    public void An_entry_count_of_int_MaxValue_is_refused_without_allocating_for_it()
    {
        var hostile = RaftWireCodec.Encode([Append]);
        BinaryPrimitives.WriteInt32LittleEndian(hostile.AsSpan(EntryCountOffset), int.MaxValue);

        var e = RefusedWithin(AllocationBudget, hostile);
        Assert.Contains("entry count", e.Message);
    }

    [Fact]
    public void A_negative_length_is_refused()
    {
        var hostile = RaftWireCodec.Encode([Append]);
        BinaryPrimitives.WriteInt32LittleEndian(hostile.AsSpan(FirstEntryDataLengthOffset), -1);

        Assert.Contains("negative", Assert.Throws<BinaryFormatException>(() => RaftWireCodec.Decode(hostile)).Message);
    }

    [Fact]
    public void A_huge_byte_string_length_is_refused_without_allocating_for_it()
    {
        var hostile = RaftWireCodec.Encode([Append]);
        BinaryPrimitives.WriteInt32LittleEndian(hostile.AsSpan(FirstEntryDataLengthOffset), int.MaxValue);

        var e = RefusedWithin(AllocationBudget, hostile);
        Assert.Contains("entry data", e.Message);
    }

    [Fact]
    public void An_implausible_member_count_is_refused()
    {
        var encoded = RaftWireCodec.Encode([SnapshotMessage]);
        // The snapshot follows the (empty) entry list: index, term, then the voter count.
        var voterCountOffset = EntryCountOffset + 4 + 8 + 8;
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(encoded.AsSpan(voterCountOffset)));

        BinaryPrimitives.WriteInt32LittleEndian(encoded.AsSpan(voterCountOffset), int.MaxValue);
        Assert.Contains("voter count", RefusedWithin(AllocationBudget, encoded).Message);
    }

    private static BinaryFormatException RefusedWithin(long budget, byte[] hostile)
    {
        // Warm up first so that JIT and first-use allocations are not counted.
        Assert.Throws<BinaryFormatException>(() => RaftWireCodec.Decode(hostile));

        BinaryFormatException? refused = null;
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            RaftWireCodec.Decode(hostile);
        }
        catch (BinaryFormatException e)
        {
            refused = e;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotNull(refused);
        Assert.True(allocated < budget, $"decoding a hostile batch allocated {allocated} bytes");
        return refused;
    }
}
