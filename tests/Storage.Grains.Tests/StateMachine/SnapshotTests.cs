using System.Buffers.Binary;
using System.IO.Hashing;
using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class SnapshotTests
{
    private static KvStateMachine Populated()
    {
        var sm = new KvStateMachine(new KvStateMachineOptions { ClientIdleEntries = 1000, MaxClients = 10 });
        sm.Apply(1, Put(ClientA, 1, "k1", "v1"));
        sm.Apply(2, Put(ClientB, 1, "k2", ""));
        sm.Apply(3, Cas(ClientA, 2, "k1", 99, "no"));            // remembered conflict
        sm.Apply(4, Put(ClientB, 2, "ключ", "значение"));
        sm.ApplyNoOp(5);
        sm.Apply(6, Delete(ClientA, 3, "missing"));              // remembered Applied(0, false)
        sm.Apply(7, new PutCommand(new WriteId(new Guid("cccccccc-0000-0000-0000-000000000003"), 1), "big", new byte[100_000]));
        return sm;
    }

    [Fact]
    public void Round_trip_is_exact()
    {
        var original = Populated();
        byte[] snapshot = original.CreateSnapshot();

        var restored = KvStateMachine.Restore(snapshot);

        Assert.Equal(original.AppliedIndex, restored.AppliedIndex);
        Assert.Equal(original.Count, restored.Count);
        Assert.Equal(original.DataBytes, restored.DataBytes);
        Assert.Equal(original.Options, restored.Options);
        Assert.Equal(original.GetSessions(), restored.GetSessions());
        var all = original.Scan(null, null, 1000).Items;
        var restoredAll = restored.Scan(null, null, 1000).Items;
        Assert.Equal(all.Select(i => (i.Key, i.Version)), restoredAll.Select(i => (i.Key, i.Version)));
        Assert.All(all.Zip(restoredAll), p => Assert.Equal(p.First.Value, p.Second.Value));
        Assert.Equal(snapshot, restored.CreateSnapshot());
    }

    [Fact]
    public void Restored_machine_keeps_exactly_once_answers_and_continues()
    {
        var original = Populated();
        var restored = KvStateMachine.Restore(original.CreateSnapshot());

        // ClientA's last write was sequence 3 (the delete at index 6); ClientB's was sequence 2.
        Assert.Equal(KvApplyResult.Applied(0, existed: false).AsReplay(), restored.Apply(8, Delete(ClientA, 3, "missing")));
        Assert.Equal(KvApplyResult.Stale(2), restored.Apply(9, Put(ClientB, 1, "k2", "")));
        Assert.Equal(KvApplyResult.Applied(10, existed: false), restored.Apply(10, Cas(ClientA, 4, "x", 0, "y")));

        // Both copies applying the same further entries stay identical.
        original.Apply(8, Delete(ClientA, 3, "missing"));
        original.Apply(9, Put(ClientB, 1, "k2", ""));
        original.Apply(10, Cas(ClientA, 4, "x", 0, "y"));
        Assert.Equal(original.CreateSnapshot(), restored.CreateSnapshot());
    }

    [Fact]
    public void Options_travel_with_the_snapshot()
    {
        var sm = new KvStateMachine(new KvStateMachineOptions { ClientIdleEntries = 7, MaxClients = 3 });
        sm.ApplyNoOp(1);
        var restored = KvStateMachine.Restore(sm.CreateSnapshot());
        Assert.Equal(7, restored.Options.ClientIdleEntries);
        Assert.Equal(3, restored.Options.MaxClients);
    }

    [Fact]
    public void Empty_machine_round_trips()
    {
        var restored = KvStateMachine.Restore(new KvStateMachine().CreateSnapshot());
        Assert.Equal(0, restored.AppliedIndex);
        Assert.Equal(0, restored.Count);
        Assert.Equal(0, restored.TrackedClientCount);
    }

    [Fact]
    public void Equal_states_give_equal_bytes_regardless_of_insertion_order()
    {
        // Same final state (keys, versions, sessions) reached via different histories of deletes.
        var a = new KvStateMachine();
        a.Apply(1, Put(ClientA, 1, "x", "1"));
        a.Apply(2, Put(ClientA, 2, "tmp", "1"));
        a.Apply(3, Delete(ClientA, 3, "tmp"));
        var b = new KvStateMachine();
        b.Apply(1, Put(ClientA, 1, "x", "1"));
        b.Apply(2, Put(ClientA, 2, "other", "1"));
        b.Apply(3, Delete(ClientA, 3, "other"));
        Assert.Equal(a.CreateSnapshot(), b.CreateSnapshot());
    }

    [Fact]
    public void Any_single_byte_corruption_is_detected()
    {
        byte[] snapshot = Populated().CreateSnapshot();
        // Every byte of the header and tail, and a stride through the large value in between.
        var positions = Enumerable.Range(0, 200).Concat(Enumerable.Range(snapshot.Length - 400, 400)).Concat(Enumerable.Range(0, snapshot.Length).Where(i => i % 97 == 0));
        foreach (int i in positions.Distinct())
        {
            byte[] corrupt = (byte[])snapshot.Clone();
            corrupt[i] ^= 0x04;
            Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(corrupt));
        }
    }

    [Fact]
    public void Truncation_is_detected()
    {
        byte[] snapshot = Populated().CreateSnapshot();
        foreach (int length in new[] { 0, 1, 4, 5, 6, 13, 14, 100, snapshot.Length - 9, snapshot.Length - 8, snapshot.Length - 1 })
        {
            Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(snapshot.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Wrong_magic_and_version_are_named()
    {
        byte[] snapshot = new KvStateMachine().CreateSnapshot();
        byte[] badMagic = (byte[])snapshot.Clone();
        badMagic[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(badMagic)).Message);

        byte[] badVersion = (byte[])snapshot.Clone();
        badVersion[4] = 9;
        Assert.Contains("format version 9", Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(badVersion)).Message);

        Assert.Contains("checksum", Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(snapshot[..^1].Append((byte)(snapshot[^1] ^ 1)).ToArray())).Message);
    }

    // Resealed images have a valid checksum, so only the structural checks can catch them.

    [Fact]
    public void Truncated_body_with_valid_checksum_is_rejected()
    {
        byte[] body = Body(Populated().CreateSnapshot());
        for (int cut = 7; cut < body.Length; cut += Math.Max(1, body.Length / 50))
        {
            Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(Seal(body[..cut])));
        }
    }

    [Fact]
    public void Trailing_bytes_with_valid_checksum_are_rejected()
    {
        byte[] body = [.. Body(Populated().CreateSnapshot()), 0];
        Assert.Contains("trailing", Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(Seal(body))).Message);
    }

    [Fact]
    public void Keys_out_of_order_with_valid_checksum_are_rejected()
    {
        var sm = new KvStateMachine();
        sm.Apply(1, Put(ClientA, 1, "a", "1"));
        sm.Apply(2, Put(ClientA, 2, "b", "2"));
        byte[] body = Body(sm.CreateSnapshot());
        // Layout: magic(4) version(2) applied(1) idle(3) max(3) count(1) then "a" record, "b" record.
        int firstKey = Array.IndexOf(body, (byte)'a');
        int secondKey = Array.IndexOf(body, (byte)'b');
        (body[firstKey], body[secondKey]) = (body[secondKey], body[firstKey]);
        Assert.Contains("ascending", Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(Seal(body))).Message);
    }

    [Fact]
    public void Version_above_applied_index_with_valid_checksum_is_rejected()
    {
        var sm = new KvStateMachine();
        sm.Apply(1, Put(ClientA, 1, "a", "1"));
        byte[] body = Body(sm.CreateSnapshot());
        int key = Array.IndexOf(body, (byte)'a');
        body[key + 1] = 2; // version 2 > applied index 1
        Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(Seal(body)));
    }

    [Fact]
    public void Huge_count_with_valid_checksum_fails_without_allocating()
    {
        byte[] body = Body(new KvStateMachine().CreateSnapshot());
        // Replace the key count (0, the byte before the session count) with a 5-byte varint of ~34 billion.
        byte[] evil = [.. body[..^2], 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00];
        Assert.Contains("exceeds", Assert.Throws<BinaryFormatException>(() => KvStateMachine.Restore(Seal(evil))).Message);
    }

    private static byte[] Body(byte[] snapshot) => snapshot[..^8];

    private static byte[] Seal(byte[] body)
    {
        var result = new byte[body.Length + 8];
        body.CopyTo(result, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(body.Length), XxHash64.HashToUInt64(body));
        return result;
    }
}
