using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>Hand-made histories that are linearizable: the checker must accept every one (soundness).</summary>
public class LinearizableHistoryTests(ITestOutputHelper output)
{
    private void AssertOk(Hand h, CheckerOptions? options = null)
    {
        var result = h.Check(output, options);
        Assert.True(result.IsLinearizable, result.Render());
    }

    [Fact]
    public void Empty_history_is_linearizable()
    {
        var result = LinearizabilityChecker.Check(new HistoryBuilder().Build());
        Assert.Equal(CheckOutcome.Ok, result.Outcome);
        Assert.Empty(result.Keys);
    }

    [Fact]
    public void Sequential_puts_gets_and_deletes()
    {
        AssertOk(new Hand()
            .GetMissing(1, 0, 1)
            .Put(1, "a", 2, 3, version: 1, existed: false)
            .Get(1, 4, 5, "a", 1)
            .Put(2, "b", 6, 7, version: 4, existed: true)
            .Get(3, 8, 9, "b", 4)
            .Delete(1, 10, 11, existed: true)
            .GetMissing(2, 12, 13)
            .Delete(1, 14, 15, existed: false)
            .Put(3, "c", 16, 17, version: 9, existed: false)
            .Get(1, 18, 19, "c", 9));
    }

    [Fact]
    public void Overlapping_writes_may_take_effect_in_either_order_and_versions_tell_which()
    {
        // b took effect first (smaller version) even though a was invoked first; the reads agree.
        AssertOk(new Hand()
            .Put(1, "a", 0, 10, version: 5)
            .Put(2, "b", 2, 12, version: 4)
            .Get(3, 3, 9, "b", 4)
            .Get(3, 13, 14, "a", 5));
    }

    [Fact]
    public void A_read_concurrent_with_a_write_may_see_the_old_or_the_new_value()
    {
        AssertOk(new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .Put(2, "b", 2, 20, version: 2)
            .Get(3, 3, 4, "a", 1)
            .Get(4, 5, 6, "b", 2)
            .Get(3, 7, 8, "b", 2));
    }

    [Fact]
    public void Touching_operations_count_as_concurrent()
    {
        // The Get is invoked at the very tick the Put completes: it may still be ordered first.
        AssertOk(new Hand()
            .Put(1, "a", 0, 5, version: 1)
            .GetMissing(2, 5, 6));
    }

    [Fact]
    public void Cas_chain_with_creation_from_absent()
    {
        AssertOk(new Hand()
            .Cas(1, 0, "a", 0, 1, version: 3, existed: false)
            .Cas(2, 3, "b", 2, 3, version: 7, existed: true)
            .Cas(1, 7, "c", 4, 5, version: 8)
            .Get(3, 6, 7, "c", 8)
            .CasConflict(2, 7, "d", 8, 9, actual: 8)
            .CasConflict(2, 0, "d", 10, 11, actual: 8));
    }

    [Fact]
    public void Racing_cas_one_wins_the_other_sees_the_winners_version()
    {
        AssertOk(new Hand()
            .Put(1, "a", 0, 1, version: 2)
            .Cas(2, 2, "b", 2, 10, version: 3)
            .CasConflict(3, 2, "c", 3, 11, actual: 3)
            .Get(1, 12, 13, "b", 3));
    }

    [Fact]
    public void Delete_and_recreate_gets_a_larger_version()
    {
        AssertOk(new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .Delete(2, 2, 3, existed: true)
            .GetMissing(1, 4, 5)
            .CasConflict(1, 1, "x", 6, 7, actual: 0)
            .Cas(2, 0, "b", 8, 9, version: 4, existed: false)
            .Get(3, 10, 11, "b", 4)
            .Delete(1, 12, 13, existed: true)
            .Delete(2, 14, 15, existed: false)
            .Put(3, "c", 16, 17, version: 9, existed: false));
    }

    [Fact]
    public void Versions_may_restart_after_delete_when_the_option_allows_it()
    {
        var h = new Hand()
            .Put(1, "a", 0, 1, version: 5)
            .Delete(1, 2, 3, existed: true)
            .Put(1, "b", 4, 5, version: 2);
        AssertOk(h, CheckerOptions.Default with { VersionsIncreaseAcrossDeletes = false });
    }

    [Fact]
    public void Failed_operations_are_ignored()
    {
        AssertOk(new Hand()
            .PutFailed(1, "a", 0, 1)
            .GetMissing(2, 2, 3)
            .Put(1, "b", 4, 5, version: 2)
            .PutFailed(1, "c", 6, 7)
            .Get(2, 8, 9, "b", 2));
    }

    [Fact]
    public void Keys_are_independent()
    {
        var history = new HistoryBuilder()
            .Ok(1, Operation.Put("x", "1"), 0, 1, OperationResult.Written(1))
            .Ok(1, Operation.Put("y", "1"), 2, 3, OperationResult.Written(2))
            .Ok(2, Operation.Get("x"), 4, 5, OperationResult.ReadValue("1", 1))
            .Ok(2, Operation.Get("y"), 6, 7, OperationResult.ReadValue("1", 2))
            .Build();
        var result = LinearizabilityChecker.Check(history);
        Assert.True(result.IsLinearizable, result.Render());
        Assert.Equal(["x", "y"], result.Keys.Select(k => k.Key));
    }

    [Fact]
    public void Byte_values_are_compared_by_content()
    {
        var history = new HistoryBuilder()
            .Ok(1, Operation.Put("k", new byte[] { 0, 1, 255 }), 0, 1, OperationResult.Written(1))
            .Ok(2, Operation.Get("k"), 2, 3, OperationResult.Read(true, new byte[] { 0, 1, 255 }, 1))
            .Build();
        Assert.True(LinearizabilityChecker.Check(history).IsLinearizable);
    }
}
