using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class SplitTests
{
    private static readonly long[] Parents = [1, 2, 3];
    private static readonly long[] Children = [13, 14, 15];

    /// <summary>A shard owning the whole hash space (map version 1), with 200 keys written by two clients.</summary>
    private static KvStateMachine Populated(out long index)
    {
        var sm = new KvStateMachine(new KvStateMachineOptions { ClientIdleEntries = 10_000, MaxClients = 100 });
        index = 0;
        for (var i = 0; i < 200; i++)
        {
            sm.Apply(++index, Put(i % 2 == 0 ? ClientA : ClientB, i + 1, $"key/{i}", $"value {i}"));
        }

        return sm;
    }

    private static SplitCommand SplitAtMedian(KvStateMachine sm, long newMapVersion = 2) =>
        new(0, ulong.MaxValue, sm.MedianKeyHash(0, ulong.MaxValue)!.Value, 4, newMapVersion, Parents, Children);

    private static List<string> Keys(KvStateMachine sm) => sm.Scan(null, null, int.MaxValue).Items.Select(i => i.Key).ToList();

    [Fact]
    public void Split_divides_the_keys_at_the_split_point_and_sets_both_ranges()
    {
        var sm = Populated(out var index);
        var before = Keys(sm);
        var bytes = sm.DataBytes;
        var split = SplitAtMedian(sm);

        var result = sm.ApplySplit(index + 1, split);

        Assert.Equal(KvSplitStatus.Split, result.Status);
        var child = result.Child!;
        Assert.Equal(100, sm.Count);
        Assert.Equal(100, child.Count);
        Assert.All(Keys(sm), k => Assert.True(KeyHash.Of(k) < split.SplitAt));
        Assert.All(Keys(child), k => Assert.True(KeyHash.Of(k) >= split.SplitAt));
        Assert.Equal(before.Order(StringComparer.Ordinal), Keys(sm).Concat(Keys(child)).Order(StringComparer.Ordinal));
        Assert.Equal(bytes, sm.DataBytes + child.DataBytes);
        Assert.Equal((0UL, split.SplitAt - 1, 2L), (sm.RangeStart, sm.RangeEnd, sm.RangeVersion));
        Assert.Equal((split.SplitAt, ulong.MaxValue, 2L), (child.RangeStart, child.RangeEnd, child.RangeVersion));
        Assert.Equal(index + 1, sm.AppliedIndex);
        Assert.Equal(index + 1, child.AppliedIndex);

        // Values and versions travel unchanged.
        var moved = Keys(child)[0];
        var original = Populated(out _).Get(moved);
        Assert.Equal((original.Version, Convert.ToHexString(original.Value!)), (child.Get(moved).Version, Convert.ToHexString(child.Get(moved).Value!)));
    }

    [Fact]
    public void A_write_applied_before_the_split_and_retried_at_the_new_shard_is_answered_not_applied_again()
    {
        var sm = Populated(out var index);
        var split = SplitAtMedian(sm);
        var key = Enumerable.Range(0, 1000).Select(i => $"late/{i}").First(k => KeyHash.Of(k) >= split.SplitAt);
        var clientC = Guid.NewGuid();
        var first = sm.Apply(++index, Put(clientC, 7, key, "once"));
        var child = sm.ApplySplit(++index, split).Child!;

        Assert.Equal(sm.GetSessions(), child.GetSessions());
        var retried = child.Apply(++index, Put(clientC, 7, key, "once"));
        Assert.True(retried.IsReplay);
        Assert.Equal(first.Version, retried.Version);
        Assert.Equal(first.Version, child.Get(key).Version);
    }

    [Fact]
    public void A_write_applied_after_the_split_for_a_key_that_moved_is_wrong_shard_and_not_remembered()
    {
        var sm = Populated(out var index);
        var split = SplitAtMedian(sm);
        var moved = Enumerable.Range(0, 1000).Select(i => $"late/{i}").First(k => KeyHash.Of(k) >= split.SplitAt);
        var kept = Enumerable.Range(0, 1000).Select(i => $"late/{i}").First(k => KeyHash.Of(k) < split.SplitAt);
        var child = sm.ApplySplit(++index, split).Child!;
        var clientC = Guid.NewGuid();

        var wrong = sm.Apply(++index, Put(clientC, 1, moved, "here?"));
        Assert.Equal(KvApplyResult.WrongShard(2), wrong);
        Assert.Throws<WrongShardException>(() => wrong.ToWriteResult(moved));
        Assert.False(sm.Get(moved).Found);
        Assert.False(sm.TryGetSession(clientC, out _));
        Assert.False(sm.Owns(moved));
        Assert.True(sm.Owns(kept));

        // The retry at the new shard is applied there, once.
        var applied = child.Apply(index, Put(clientC, 1, moved, "here"));
        Assert.Equal(KvApplyStatus.Applied, applied.Status);
        Assert.False(applied.IsReplay);
        Assert.Equal(KvApplyResult.WrongShard(2), child.Apply(index + 1, Put(clientC, 2, kept, "not here")));
    }

    [Fact]
    public void A_re_proposed_split_is_already_split_and_changes_nothing()
    {
        var sm = Populated(out var index);
        var split = SplitAtMedian(sm);
        sm.ApplySplit(++index, split);
        var keys = Keys(sm);

        var again = sm.ApplySplit(++index, split);

        Assert.Equal(KvSplitStatus.AlreadySplit, again.Status);
        Assert.Null(again.Child);
        Assert.Equal(keys, Keys(sm));
        Assert.Equal(split.SplitAt - 1, sm.RangeEnd);
        Assert.Equal(index, sm.AppliedIndex);
    }

    [Fact]
    public void A_split_planned_for_another_range_is_refused_and_changes_nothing()
    {
        var sm = Populated(out var index);
        var split = SplitAtMedian(sm);
        sm.ApplySplit(++index, split);
        var keys = Keys(sm);

        // Planned from the old map (whole range) with a newer version: the range no longer matches.
        var stale = new SplitCommand(0, ulong.MaxValue, split.SplitAt / 2, 5, 3, Parents, [16, 17, 18]);
        var refused = sm.ApplySplit(++index, stale);

        Assert.Equal(KvSplitStatus.Refused, refused.Status);
        Assert.Null(refused.Child);
        Assert.Equal(keys, Keys(sm));
        Assert.Equal((0UL, split.SplitAt - 1, 2L), (sm.RangeStart, sm.RangeEnd, sm.RangeVersion));

        // The same split planned from the current range goes through.
        var fresh = new SplitCommand(0, split.SplitAt - 1, split.SplitAt / 2, 5, 3, Parents, [16, 17, 18]);
        Assert.Equal(KvSplitStatus.Split, sm.ApplySplit(++index, fresh).Status);
        Assert.Equal((0UL, split.SplitAt / 2 - 1, 3L), (sm.RangeStart, sm.RangeEnd, sm.RangeVersion));
    }

    [Fact]
    public void Snapshots_carry_the_range_and_both_halves_restore_to_the_same_state()
    {
        var sm = Populated(out var index);
        var child = sm.ApplySplit(++index, SplitAtMedian(sm)).Child!;

        foreach (var machine in new[] { sm, child })
        {
            var snapshot = machine.CreateSnapshot();
            Assert.Equal(KvSnapshotFormat.FormatVersion, BinaryPrimitives.ReadUInt16LittleEndian(snapshot.AsSpan(4)));
            var restored = KvStateMachine.Restore(snapshot);
            Assert.Equal((machine.RangeStart, machine.RangeEnd, machine.RangeVersion), (restored.RangeStart, restored.RangeEnd, restored.RangeVersion));
            Assert.Equal(Keys(machine), Keys(restored));
            Assert.Equal(machine.GetSessions(), restored.GetSessions());
            Assert.Equal(snapshot, restored.CreateSnapshot());
        }
    }

    [Fact]
    public void A_version_1_snapshot_is_still_read_as_a_shard_that_never_split()
    {
        var v1 = Version1Snapshot(appliedIndex: 9, ("a", "1", 3), ("b", "22", 9));

        var restored = KvStateMachine.Restore(v1);

        Assert.Equal(9, restored.AppliedIndex);
        Assert.Equal(0, restored.RangeVersion);
        Assert.Equal(["a", "b"], Keys(restored));
        Assert.Equal(3, restored.Get("a").Version);
        Assert.Equal("22", Encoding.UTF8.GetString(restored.Get("b").Value!));
        Assert.True(restored.Owns("any key at all"));

        // It can split like any other (the command names its range) and is written back in the current format.
        var split = new SplitCommand(0, ulong.MaxValue, ulong.MaxValue / 2, 1, 2, Parents, Children);
        Assert.Equal(KvSplitStatus.Split, restored.ApplySplit(10, split).Status);
        Assert.Equal(KvSnapshotFormat.FormatVersion, BinaryPrimitives.ReadUInt16LittleEndian(restored.CreateSnapshot().AsSpan(4)));
    }

    [Fact]
    public void Scan_with_a_range_counts_only_keys_that_hash_into_it()
    {
        var sm = Populated(out _);
        var mid = ulong.MaxValue / 2;

        var lower = sm.Scan("key/", null, 1000, 0, mid).Items;
        var upper = sm.Scan("key/", null, 1000, mid + 1, ulong.MaxValue).Items;

        Assert.All(lower, i => Assert.True(KeyHash.Of(i.Key) <= mid));
        Assert.All(upper, i => Assert.True(KeyHash.Of(i.Key) > mid));
        Assert.Equal(200, lower.Count + upper.Count);

        // Paging inside a range: the cursor is the last key returned, and pages add up to the whole range.
        var paged = new List<string>();
        string? after = null;
        do
        {
            var page = sm.Scan("key/", after, 7, 0, mid);
            paged.AddRange(page.Items.Select(i => i.Key));
            after = page.ContinueAfter;
        }
        while (after is not null);

        Assert.Equal(lower.Select(i => i.Key), paged);
    }

    [Fact]
    public void The_median_key_hash_halves_the_keys_and_needs_two_distinct_hashes()
    {
        var sm = Populated(out _);
        var median = sm.MedianKeyHash(0, ulong.MaxValue)!.Value;
        Assert.Equal(100, Keys(sm).Count(k => KeyHash.Of(k) >= median));

        Assert.Null(KvStateMachine.MedianSplitPoint([5], 0));
        Assert.Null(KvStateMachine.MedianSplitPoint([5, 5, 5], 0));
        Assert.Equal(7UL, KvStateMachine.MedianSplitPoint([5, 5, 7], 0));
        Assert.Equal(7UL, KvStateMachine.MedianSplitPoint([5, 7, 7, 7], 0));
        Assert.Null(KvStateMachine.MedianSplitPoint([5, 7], 7));
    }

    [Fact]
    public void Split_commands_must_be_consistent()
    {
        Assert.Throws<InvalidRequestException>(() => new SplitCommand(10, 20, 10, 1, 2, Parents, Children));   // at the start
        Assert.Throws<InvalidRequestException>(() => new SplitCommand(10, 20, 21, 1, 2, Parents, Children));   // past the end
        Assert.Throws<InvalidRequestException>(() => new SplitCommand(10, 20, 15, 1, 1, Parents, Children));   // version 1 is the first map
        Assert.Throws<InvalidRequestException>(() => new SplitCommand(10, 20, 15, 1, 2, Parents, [13, 14]));   // not aligned
        Assert.Throws<InvalidRequestException>(() => new SplitCommand(10, 20, 15, 1, 2, Parents, [3, 14, 15])); // id reused
        Assert.Equal(14, new SplitCommand(10, 20, 15, 1, 2, Parents, Children).ChildOf(2));
        Assert.Equal(0, new SplitCommand(10, 20, 15, 1, 2, Parents, Children).ChildOf(9));
    }

    /// <summary>A snapshot in format version 1 (before ranges), written field by field as that format specified.</summary>
    private static byte[] Version1Snapshot(long appliedIndex, params (string Key, string Value, long Version)[] keys)
    {
        var bytes = new List<byte>();
        bytes.AddRange("SKVS"u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes((ushort)1));
        VarInt(appliedIndex);
        VarInt(1000); // client idle entries
        VarInt(10);   // max clients
        VarInt(keys.Length);
        foreach (var (key, value, version) in keys)
        {
            var k = Encoding.UTF8.GetBytes(key);
            VarInt(k.Length);
            bytes.AddRange(k);
            VarInt(version);
            var v = Encoding.UTF8.GetBytes(value);
            VarInt(v.Length);
            bytes.AddRange(v);
        }

        VarInt(0); // sessions
        bytes.AddRange(BitConverter.GetBytes(XxHash64.HashToUInt64(bytes.ToArray())));
        return bytes.ToArray();

        void VarInt(long value)
        {
            var v = (ulong)value;
            while (v >= 0x80)
            {
                bytes.Add((byte)(v | 0x80));
                v >>= 7;
            }

            bytes.Add((byte)v);
        }
    }
}
