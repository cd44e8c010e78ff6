using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>
/// Hand-made histories with the classic anomalies: the checker must reject every one (completeness) and
/// its witness must point at the operations at fault.
/// </summary>
public class NonLinearizableHistoryTests(ITestOutputHelper output)
{
    private FailureWitness AssertIllegal(Hand h, params int[] offending)
    {
        var result = h.Check(output);
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        var witness = result[Hand.K].Witness;
        Assert.NotNull(witness);
        Assert.True(witness.IsMinimal, witness.Render());
        foreach (int id in offending)
        {
            Assert.True(witness.Mentions(id), $"witness should mention #{id}:\n{witness.Render()}");
        }

        return witness;
    }

    [Fact]
    public void Stale_read_after_a_completed_put()
    {
        var w = AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Put(2, "b", 2, 3, version: 2)
                .Get(3, 4, 5, "a", 1),
            1,
            2);
        Assert.Equal(2, w.FailingOperation!.Id);
    }

    [Fact]
    public void Stale_read_between_unrelated_noise()
    {
        var h = new Hand();
        h.Put(1, "a", 0, 1, version: 1);
        for (int i = 0; i < 10; i++)
        {
            h.Get(5, 2 + (2 * i), 3 + (2 * i), "a", 1);
        }

        h.Put(2, "b", 30, 31, version: 2);   // #11
        h.Get(4, 32, 33, "b", 2);            // #12
        h.Get(3, 34, 35, "a", 1);            // #13: stale
        h.Get(4, 36, 37, "b", 2);
        var w = AssertIllegal(h, 13);

        // Either the completed Put or the read of its value shows that "a" was already overwritten.
        Assert.True(w.Mentions(11) || w.Mentions(12), w.Render());
        Assert.True(w.Operations.Count <= 3, w.Render());
    }

    [Fact]
    public void Lost_write_an_acknowledged_put_is_never_visible()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Put(2, "b", 2, 10, version: 3)
                .Get(3, 11, 12, "a", 1)
                .Get(4, 13, 14, "a", 1),
            1,
            2);
    }

    [Fact]
    public void Lost_write_overwritten_by_nothing_reads_see_absent()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .GetMissing(2, 2, 3),
            0,
            1);
    }

    [Fact]
    public void Double_applied_cas_with_the_same_expected_version()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Cas(2, 1, "b", 2, 6, version: 2)
                .Cas(3, 1, "c", 3, 7, version: 3),
            1,
            2);
    }

    [Fact]
    public void Cas_that_applied_although_the_version_did_not_match()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Cas(2, 7, "b", 2, 3, version: 9),
            0,
            1);
    }

    [Fact]
    public void Cas_whose_new_version_is_not_above_the_expected_one()
    {
        // Contradicts itself: whatever came before, the version it replaced (7) must be below the new one.
        var w = AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Cas(2, 7, "b", 2, 3, version: 2),
            1);
        Assert.Single(w.Operations);
    }

    [Fact]
    public void Cas_conflict_that_reports_the_expected_version()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .CasConflict(2, 1, "b", 2, 3, actual: 1),
            1);
    }

    [Fact]
    public void Cas_conflict_that_reports_a_wrong_actual_version()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 4)
                .CasConflict(2, 1, "b", 2, 3, actual: 3),
            0,
            1);
    }

    [Fact]
    public void Read_of_a_value_never_written()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Get(2, 2, 3, "zzz", 1),
            1);
    }

    [Fact]
    public void Read_of_a_version_never_assigned()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 3)
                .Get(2, 2, 3, "a", 4),
            0,
            1);
    }

    [Fact]
    public void Versions_going_backwards_across_puts()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 5)
                .Put(2, "b", 2, 3, version: 3),
            0,
            1);
    }

    [Fact]
    public void Two_writes_with_the_same_version()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 10, version: 3)
                .Put(2, "b", 0, 10, version: 3),
            0,
            1);
    }

    [Fact]
    public void Versions_going_backwards_across_delete_and_recreate()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 5)
                .Delete(1, 2, 3, existed: true)
                .Put(1, "b", 4, 5, version: 2),
            0,
            2);
    }

    [Fact]
    public void Read_version_going_backwards()
    {
        // Two reads of the same value with different versions, without a write in between.
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 2)
                .Get(2, 2, 3, "a", 2)
                .Get(2, 4, 5, "a", 1),
            2);
    }

    [Fact]
    public void New_then_old_reads_during_one_write()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Put(2, "b", 2, 20, version: 2)
                .Get(3, 3, 4, "b", 2)
                .Get(4, 5, 6, "a", 1),
            2,
            3);
    }

    [Fact]
    public void Wrong_existed_flags()
    {
        AssertIllegal(new Hand().Put(1, "a", 0, 1, version: 1, existed: true), 0);
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Delete(2, 2, 3, existed: false),
            0,
            1);
        AssertIllegal(
            new Hand()
                .Cas(1, 0, "a", 0, 1, version: 1, existed: true),
            0);
    }

    [Fact]
    public void A_missing_read_with_a_version()
    {
        AssertIllegal(new Hand().GetMissing(1, 0, 1, version: 3), 0);
    }

    [Fact]
    public void A_deleted_key_that_reappears()
    {
        AssertIllegal(
            new Hand()
                .Put(1, "a", 0, 1, version: 1)
                .Delete(2, 2, 3, existed: true)
                .Get(3, 4, 5, "a", 1),
            1,
            2);
    }

    [Fact]
    public void Without_minimization_the_whole_key_history_is_reported()
    {
        var h = new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .Put(2, "b", 2, 3, version: 2)
            .Get(3, 4, 5, "a", 1);
        var result = h.Check(output, CheckerOptions.Default with { Minimize = false });
        var w = result[Hand.K].Witness!;
        Assert.Equal(3, w.Operations.Count);
        Assert.False(w.IsMinimal);
        Assert.Null(w.FailingOperation);
    }
}
