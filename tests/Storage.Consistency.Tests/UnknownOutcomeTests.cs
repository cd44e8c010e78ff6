using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>
/// Operations without an answer may have taken effect at any point after their invocation — even long after
/// the client gave up — or never, but at most once. Accept every history that fits, reject the rest.
/// </summary>
public class UnknownOutcomeTests(ITestOutputHelper output)
{
    private void AssertOk(Hand h)
    {
        var result = h.Check(output);
        Assert.True(result.IsLinearizable, result.Render());
    }

    private FailureWitness AssertIllegal(Hand h)
    {
        var result = h.Check(output);
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        return result[Hand.K].Witness!;
    }

    [Fact]
    public void An_unknown_write_that_took_effect()
    {
        AssertOk(new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .PutUnknown(2, "b", 2, gaveUp: 5)
            .Get(3, 10, 11, "b", 3)
            .Get(3, 12, 13, "b", 3));
    }

    [Fact]
    public void An_unknown_write_that_never_took_effect()
    {
        AssertOk(new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .PutUnknown(2, "b", 2, gaveUp: 5)
            .Get(3, 10, 11, "a", 1)
            .Put(1, "c", 12, 13, version: 4)
            .Get(3, 14, 15, "c", 4));
    }

    [Fact]
    public void An_unknown_write_may_take_effect_long_after_the_client_gave_up()
    {
        AssertOk(new Hand()
            .PutUnknown(2, "b", 0, gaveUp: 1)
            .Put(1, "c", 5, 6, version: 6)
            .Get(3, 7, 8, "c", 6)
            .Get(3, 20, 21, "b", 9));
    }

    [Fact]
    public void An_unknown_write_observed_only_through_existed_flags()
    {
        AssertOk(new Hand()
            .PutUnknown(2, "b", 0)
            .Delete(1, 5, 6, existed: true)
            .GetMissing(3, 7, 8));
    }

    [Fact]
    public void An_unknown_write_observed_only_through_a_cas_conflict()
    {
        AssertOk(new Hand()
            .PutUnknown(2, "b", 0)
            .CasConflict(1, 0, "x", 5, 6, actual: 7)
            .Get(3, 7, 8, "b", 7));
    }

    [Fact]
    public void An_unknown_delete_either_way()
    {
        AssertOk(new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .DeleteUnknown(2, 2)
            .Get(3, 3, 4, "a", 1)
            .GetMissing(3, 5, 6)
            .Put(1, "b", 7, 8, version: 5, existed: false));
    }

    [Fact]
    public void An_unknown_cas_that_applied_and_one_that_did_not()
    {
        AssertOk(new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .CasUnknown(2, 1, "b", 2, gaveUp: 3)
            .Get(3, 4, 5, "b", 4)
            .CasUnknown(2, 1, "c", 6, gaveUp: 7)
            .Get(3, 8, 9, "b", 4));
    }

    [Fact]
    public void An_unknown_cas_against_an_unknown_version()
    {
        // Whether the CAS matched depends on the version the lost Put got: the model keeps both possibilities.
        AssertOk(new Hand()
            .PutUnknown(1, "a", 0)
            .CasUnknown(2, 5, "b", 1)
            .Get(3, 10, 11, "b", 8));
        AssertOk(new Hand()
            .PutUnknown(1, "a", 0)
            .CasUnknown(2, 5, "b", 1)
            .Get(3, 10, 11, "a", 3));
        AssertOk(new Hand()
            .PutUnknown(1, "a", 0)
            .CasUnknown(2, 5, "b", 1)
            .Get(3, 10, 11, "a", 5)
            .Get(3, 12, 13, "b", 6));
    }

    [Fact]
    public void Many_unknown_writes_that_never_happened_do_not_slow_the_search_down()
    {
        var h = new Hand().Put(0, "init", 0, 1, version: 1);
        for (int i = 0; i < 40; i++)
        {
            h.PutUnknown(100 + i, $"lost{i}", 2 + i);
        }

        for (int i = 0; i < 200; i++)
        {
            h.Get(1, 100 + (2 * i), 101 + (2 * i), "init", 1);
        }

        var result = h.Check(output);
        Assert.True(result.IsLinearizable, result.Render());
        Assert.True(result[Hand.K].Steps < 100_000, $"{result[Hand.K].Steps} steps");
    }

    [Fact]
    public void An_unknown_write_cannot_be_seen_before_it_was_invoked()
    {
        var h = new Hand()
            .Get(1, 0, 1, "b", 1)
            .PutUnknown(2, "b", 5);
        var w = AssertIllegal(h);
        Assert.True(w.Mentions(0), w.Render());
    }

    [Fact]
    public void An_unknown_write_takes_effect_at_most_once()
    {
        var h = new Hand()
            .PutUnknown(1, "b", 0)
            .Get(2, 5, 6, "b", 2)
            .Put(3, "c", 7, 8, version: 3)
            .Get(2, 9, 10, "b", 4);
        var w = AssertIllegal(h);

        // b read with two versions: it would have to be written twice (the Put of c is not even needed).
        Assert.True(w.Mentions(0) && w.Mentions(1) && w.Mentions(3), w.Render());
    }

    [Fact]
    public void After_an_unknown_write_is_observed_the_old_value_cannot_return()
    {
        var h = new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .PutUnknown(2, "b", 2)
            .Get(3, 5, 6, "b", 2)
            .Get(3, 7, 8, "a", 1);
        var w = AssertIllegal(h);
        Assert.True(w.Mentions(2) && w.Mentions(3), w.Render());
    }

    [Fact]
    public void An_unknown_cas_cannot_apply_when_its_expected_version_was_gone()
    {
        var h = new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .Put(1, "b", 2, 3, version: 2)
            .CasUnknown(2, 1, "c", 4)
            .Get(3, 10, 11, "c", 5);
        var w = AssertIllegal(h);
        Assert.True(w.Mentions(3), w.Render());
    }

    [Fact]
    public void An_observed_unknown_write_still_gets_a_version_above_the_earlier_ones()
    {
        var h = new Hand()
            .Put(1, "a", 0, 1, version: 5)
            .PutUnknown(2, "b", 2)
            .Get(3, 5, 6, "b", 4);
        var w = AssertIllegal(h);
        Assert.True(w.Mentions(0) && w.Mentions(2), w.Render());
    }

    [Fact]
    public void Unanswered_reads_and_failed_writes_are_ignored()
    {
        var history = new HistoryBuilder()
            .Ok(1, Operation.Put("k", "a"), 0, 1, OperationResult.Written(1))
            .Unknown(2, Operation.Get("k"), 2, 3)
            .Failed(3, Operation.Cas("k", 1, "b"), 4, 5)
            .Ok(2, Operation.Get("k"), 6, 7, OperationResult.ReadValue("a", 1))
            .Build();
        var result = LinearizabilityChecker.Check(history);
        Assert.True(result.IsLinearizable, result.Render());
        Assert.Equal(2, result["k"].CheckedOperationCount);
    }

    [Fact]
    public void A_failed_write_is_never_applied()
    {
        var h = new Hand()
            .Put(1, "a", 0, 1, version: 1)
            .PutFailed(2, "b", 2, 3)
            .Get(3, 4, 5, "b", 2);
        var w = AssertIllegal(h);
        Assert.True(w.Mentions(2), w.Render());
    }

    [Fact]
    public void Operations_never_completed_in_a_recorder_count_as_unknown()
    {
        var recorder = new HistoryRecorder();
        recorder.Invoke(1, Operation.Put("k", "a")).Ok(OperationResult.Written(1));
        _ = recorder.Invoke(2, Operation.Put("k", "b")); // still in flight when the history is taken
        recorder.Invoke(3, Operation.Get("k")).Ok(OperationResult.ReadValue("b", 2));
        var history = recorder.ToHistory();
        Assert.Equal(OperationOutcome.Unknown, history[1].Outcome);
        Assert.Null(history[1].CompleteTime);
        Assert.True(LinearizabilityChecker.Check(history).IsLinearizable);
    }
}
