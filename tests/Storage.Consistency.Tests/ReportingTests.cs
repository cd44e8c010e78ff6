using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>Budgets and the text a failing check produces.</summary>
public class ReportingTests(ITestOutputHelper output)
{
    [Fact]
    public void A_failure_is_rendered_one_line_per_operation_with_client_times_inputs_and_outputs()
    {
        var result = new Hand()
            .Put(1, "a", 0, 1, version: 1, existed: false)
            .Put(2, "b", 2, 3, version: 2, existed: true)
            .Get(3, 4, 5, "a", 1)
            .Check(output);
        string text = result.Render();
        Assert.Contains("Illegal", text);
        Assert.Contains("key \"k\": NOT LINEARIZABLE", text);
        Assert.Contains("first operation that cannot be linearized: #2", text);
        Assert.Contains("c2    [     2 ..      3]  Put(k, \"b\") -> ok v2 existed=true", text);
        Assert.Contains("c3    [     4 ..      5]  Get(k) -> found \"a\" v1   <- cannot be linearized", text);
        Assert.Equal(text, result.ToString());
    }

    [Fact]
    public void Lost_answers_and_in_flight_writes_are_marked()
    {
        var lost = new Hand()
            .PutUnknown(1, "a", 0, gaveUp: 3)
            .Get(3, 11, 12, "a", 5)
            .Get(3, 13, 14, "a", 6)
            .Check(output);
        Assert.Contains("Put(k, \"a\") -> unknown (no answer)", lost.Render());

        // b is written once but read with two versions; when the second read completes, the Put is
        // still in flight, so the witness uses only its invocation.
        var inFlight = new Hand()
            .Put(2, "b", 10, 30, version: 5)
            .Get(3, 11, 12, "b", 5)
            .Put(1, "c", 13, 14, version: 6)
            .Get(3, 15, 16, "b", 7)
            .Check(output);
        var w = inFlight[Hand.K].Witness!;
        Assert.True(w.Operations.Single(o => o.Record.Id == 0).AnswerIgnored, w.Render());
        Assert.Contains("Put(k, \"b\") -> ok v5   [in flight at the failure: answer not used]", inFlight.Render());
    }

    [Fact]
    public void Exceeding_the_budget_gives_an_unknown_verdict_instead_of_hanging()
    {
        // Illegal only at the very end, after a dozen concurrent deletes whose orders the search must all
        // rule out (they carry no versions to order them): thousands of steps, far more than 50.
        var h = new Hand();
        for (int i = 0; i < 12; i++)
        {
            h.Delete(i, 0, 100, existed: false);
        }

        h.Get(99, 101, 102, "never", 1);
        var options = CheckerOptions.Default with { MaxStepsPerKey = 50 };
        var result = h.Check(output, options);
        Assert.Equal(CheckOutcome.Unknown, result.Outcome);
        Assert.False(result.IsLinearizable);
        Assert.Contains("UNKNOWN (budget exceeded", result.Render());
        Assert.Null(result[Hand.K].Witness);

        var timed = h.Check(output, CheckerOptions.Default with { TimeBudgetPerKey = TimeSpan.Zero });
        Assert.Equal(CheckOutcome.Unknown, timed.Outcome);
    }

    [Fact]
    public void One_illegal_key_makes_the_history_illegal_and_the_others_stay_ok()
    {
        var history = new HistoryBuilder()
            .Ok(1, Operation.Put("good", "a"), 0, 1, OperationResult.Written(1))
            .Ok(1, Operation.Put("bad", "a"), 2, 3, OperationResult.Written(2))
            .Ok(2, Operation.Get("good"), 4, 5, OperationResult.ReadValue("a", 1))
            .Ok(2, Operation.Get("bad"), 6, 7, OperationResult.ReadMissing())
            .Build();
        var result = LinearizabilityChecker.Check(history);
        output.WriteLine(result.Render());
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        Assert.Equal(CheckOutcome.Ok, result["good"].Outcome);
        Assert.Equal("bad", result.IllegalKeys.Single().Key);
        Assert.DoesNotContain("key \"good\"", result.Render());
    }
}
