using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class KvStateMachineTests
{
    private readonly KvStateMachine _sm = new();

    [Fact]
    public void New_machine_is_empty()
    {
        Assert.Equal(0, _sm.AppliedIndex);
        Assert.Equal(0, _sm.Count);
        Assert.Equal(0, _sm.DataBytes);
        Assert.Equal(GetResult.Missing, _sm.Get("k"));
    }

    [Fact]
    public void Put_sets_value_and_version_is_the_log_index()
    {
        var r = _sm.Apply(5, Put(ClientA, 1, "k", "v1"));

        Assert.Equal(KvApplyStatus.Applied, r.Status);
        Assert.Equal(5, r.Version);
        Assert.False(r.Existed);
        Assert.False(r.IsReplay);
        var got = _sm.Get("k");
        Assert.True(got.Found);
        Assert.Equal(Bytes("v1"), got.Value);
        Assert.Equal(5, got.Version);
        Assert.Equal(5, _sm.AppliedIndex);
        Assert.Equal(1, _sm.Count);
    }

    [Fact]
    public void Overwrite_reports_existed_and_increases_version()
    {
        _sm.Apply(1, Put(ClientA, 1, "k", "v1"));
        var r = _sm.Apply(2, Put(ClientA, 2, "k", "v2"));

        Assert.Equal(2, r.Version);
        Assert.True(r.Existed);
        Assert.Equal(Bytes("v2"), _sm.Get("k").Value);
        Assert.Equal(1, _sm.Count);
    }

    [Fact]
    public void Delete_removes_and_version_keeps_increasing_after_recreate()
    {
        _sm.Apply(1, Put(ClientA, 1, "k", "v1"));
        var del = _sm.Apply(2, Delete(ClientA, 2, "k"));
        Assert.Equal(KvApplyResult.Applied(0, existed: true), del);
        Assert.False(_sm.Get("k").Found);
        Assert.Equal(0, _sm.Count);

        var again = _sm.Apply(3, Put(ClientA, 3, "k", "v3"));
        Assert.Equal(3, again.Version);
        Assert.False(again.Existed);
    }

    [Fact]
    public void Delete_of_missing_key_succeeds_and_changes_nothing_but_the_index()
    {
        _sm.Apply(1, Put(ClientA, 1, "other", "x"));
        var before = _sm.Scan(null, null, 100);

        var r = _sm.Apply(2, Delete(ClientA, 2, "missing"));

        Assert.Equal(KvApplyResult.Applied(0, existed: false), r);
        Assert.Equal(before.Items, _sm.Scan(null, null, 100).Items);
        Assert.Equal(2, _sm.AppliedIndex);
    }

    [Fact]
    public void Cas_with_expected_zero_creates_only_if_absent()
    {
        var created = _sm.Apply(1, Cas(ClientA, 1, "k", 0, "first"));
        Assert.Equal(KvApplyResult.Applied(1, existed: false), created);

        var second = _sm.Apply(2, Cas(ClientA, 2, "k", 0, "second"));
        Assert.Equal(KvApplyStatus.Conflict, second.Status);
        Assert.Equal(0, second.ExpectedVersion);
        Assert.Equal(1, second.ActualVersion);
        Assert.Equal(Bytes("first"), _sm.Get("k").Value);
    }

    [Fact]
    public void Cas_with_matching_version_swaps()
    {
        _sm.Apply(1, Put(ClientA, 1, "k", "v1"));
        var r = _sm.Apply(2, Cas(ClientA, 2, "k", 1, "v2"));

        Assert.Equal(KvApplyResult.Applied(2, existed: true), r);
        Assert.Equal(Bytes("v2"), _sm.Get("k").Value);
        Assert.Equal(2, _sm.Get("k").Version);
    }

    [Fact]
    public void Cas_with_wrong_version_conflicts_and_changes_nothing()
    {
        _sm.Apply(1, Put(ClientA, 1, "k", "v1"));
        var snapshotBefore = _sm.Get("k");

        var r = _sm.Apply(2, Cas(ClientA, 2, "k", 7, "nope"));

        Assert.Equal(KvApplyResult.Conflict(7, 1), r);
        Assert.Equal(snapshotBefore, _sm.Get("k"));
        var e = Assert.Throws<VersionConflictException>(() => r.ToWriteResult("k"));
        Assert.Equal(("k", 7L, 1L), (e.Key, e.Expected, e.Actual));
    }

    [Fact]
    public void Cas_on_missing_key_with_nonzero_version_conflicts_with_actual_zero()
    {
        var r = _sm.Apply(1, Cas(ClientA, 1, "k", 3, "v"));
        Assert.Equal(KvApplyResult.Conflict(3, 0), r);
        Assert.False(_sm.Get("k").Found);
    }

    [Fact]
    public void Compare_and_delete_deletes_only_at_the_expected_version()
    {
        _sm.Apply(1, Put(ClientA, 1, "k", "v1"));

        Assert.Equal(KvApplyResult.Conflict(9, 1), _sm.Apply(2, Cad(ClientA, 2, "k", 9)));
        Assert.True(_sm.Get("k").Found);

        Assert.Equal(KvApplyResult.Applied(0, existed: true), _sm.Apply(3, Cad(ClientA, 3, "k", 1)));
        Assert.False(_sm.Get("k").Found);
    }

    [Fact]
    public void Compare_and_delete_with_zero_means_assert_absent()
    {
        Assert.Equal(KvApplyResult.Applied(0, existed: false), _sm.Apply(1, Cad(ClientA, 1, "k", 0)));
        _sm.Apply(2, Put(ClientA, 2, "k", "v"));
        Assert.Equal(KvApplyResult.Conflict(0, 2), _sm.Apply(3, Cad(ClientA, 3, "k", 0)));
        Assert.True(_sm.Get("k").Found);
    }

    [Fact]
    public void Index_must_increase_but_gaps_are_allowed()
    {
        _sm.Apply(3, Put(ClientA, 1, "k", "v"));
        Assert.Throws<InvalidOperationException>(() => _sm.Apply(3, Put(ClientA, 2, "k", "v")));
        Assert.Throws<InvalidOperationException>(() => _sm.Apply(2, Put(ClientA, 2, "k", "v")));
        Assert.Throws<InvalidOperationException>(() => _sm.ApplyNoOp(3));

        // A rejected index changed nothing: the client's next write still applies.
        Assert.Equal(10, _sm.Apply(10, Put(ClientA, 2, "k", "v")).Version);
    }

    [Fact]
    public void No_op_advances_the_applied_index_only()
    {
        _sm.Apply(1, Put(ClientA, 1, "k", "v"));
        _sm.ApplyNoOp(2);
        Assert.Equal(2, _sm.AppliedIndex);
        Assert.Equal(1, _sm.Get("k").Version);
        Assert.Equal(1, _sm.Count);
    }

    [Fact]
    public void Data_bytes_track_utf8_keys_and_values()
    {
        _sm.Apply(1, Put(ClientA, 1, "é", "12345"));   // 2 + 5
        _sm.Apply(2, Put(ClientA, 2, "ab", "1"));      // 2 + 1
        Assert.Equal(10, _sm.DataBytes);
        _sm.Apply(3, Put(ClientA, 3, "é", "1"));       // value shrinks by 4
        Assert.Equal(6, _sm.DataBytes);
        _sm.Apply(4, Delete(ClientA, 4, "ab"));
        Assert.Equal(3, _sm.DataBytes);
        _sm.Apply(5, Delete(ClientA, 5, "missing"));
        Assert.Equal(3, _sm.DataBytes);
    }

    [Fact]
    public void Applied_result_maps_to_write_result()
    {
        var r = _sm.Apply(4, Put(ClientA, 1, "k", "v"));
        Assert.Equal(new WriteResult(4, false), r.ToWriteResult("k"));
    }

    [Fact]
    public void Empty_value_is_a_value()
    {
        _sm.Apply(1, Put(ClientA, 1, "k", ""));
        var got = _sm.Get("k");
        Assert.True(got.Found);
        Assert.Empty(got.Value!);
    }
}
