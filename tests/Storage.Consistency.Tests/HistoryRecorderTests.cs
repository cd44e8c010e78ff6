namespace Storage.Consistency.Tests;

public class HistoryRecorderTests
{
    [Fact]
    public void Concurrent_clients_get_distinct_ticks_in_real_time_order()
    {
        var recorder = new HistoryRecorder();
        const int clients = 8, perClient = 500;
        var threads = Enumerable.Range(0, clients).Select(c => new Thread(() =>
        {
            for (int i = 0; i < perClient; i++)
            {
                var h = recorder.Invoke(c, Operation.Put($"k{c}", $"{i}"));
                h.Ok(OperationResult.Written((c * perClient) + i + 1));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var history = recorder.ToHistory();
        Assert.Equal(clients * perClient, history.Count);
        var ticks = history.SelectMany(r => new[] { r.InvokeTime, r.CompleteTime!.Value }).ToList();
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        Assert.Equal(ticks.Count, recorder.Now);
        Assert.Equal(Enumerable.Range(0, history.Count), history.Select(r => r.Id).Order());
        foreach (var client in history.GroupBy(r => r.Client))
        {
            // One client's operations are sequential: each completes before its next one is invoked.
            var ops = client.OrderBy(r => r.InvokeTime).ToList();
            for (int i = 0; i < ops.Count; i++)
            {
                Assert.True(ops[i].InvokeTime < ops[i].CompleteTime);
                Assert.True(i == 0 || ops[i - 1].CompleteTime < ops[i].InvokeTime);
                Assert.NotNull(ops[i].InvokeElapsed);
                Assert.NotNull(ops[i].CompleteElapsed);
            }
        }

        Assert.True(LinearizabilityChecker.Check(history).IsLinearizable);
    }

    [Fact]
    public void A_handle_completes_once()
    {
        var recorder = new HistoryRecorder();
        var h = recorder.Invoke(1, Operation.Get("k"));
        h.Fail();
        Assert.True(h.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => h.Unknown());
        Assert.Throws<InvalidOperationException>(() => h.Ok(OperationResult.ReadMissing()));
        Assert.Equal(OperationOutcome.Failed, recorder.ToHistory().Single().Outcome);
    }

    [Fact]
    public void A_result_must_fit_the_operation()
    {
        var recorder = new HistoryRecorder();
        Assert.Throws<ArgumentException>(() => recorder.Invoke(1, Operation.Get("k")).Ok(OperationResult.Written(1)));
        Assert.Throws<ArgumentException>(() => recorder.Invoke(1, Operation.Put("k", "a")).Ok(OperationResult.Conflict(1)));
        Assert.Throws<ArgumentException>(() => recorder.Invoke(1, Operation.Delete("k")).Ok(OperationResult.Written(1)));
        recorder.Invoke(1, Operation.Cas("k", 0, "a")).Ok(OperationResult.Conflict(3));
        recorder.Invoke(1, Operation.Cas("k", 0, "a")).Ok(OperationResult.Written(4));
    }

    [Fact]
    public void Snapshots_are_independent_of_later_completions()
    {
        var recorder = new HistoryRecorder();
        var h = recorder.Invoke(1, Operation.Put("k", "a"));
        var before = recorder.ToHistory();
        h.Ok(OperationResult.Written(1));
        var after = recorder.ToHistory();
        Assert.Equal(OperationOutcome.Unknown, before.Single().Outcome);
        Assert.Equal(OperationOutcome.Ok, after.Single().Outcome);
    }

    [Fact]
    public void Values_are_copied_and_compared_by_content()
    {
        byte[] bytes = [1, 2, 3];
        var op = Operation.Put("k", bytes);
        bytes[0] = 9;
        Assert.Equal(ValueBytes.FromBytes([1, 2, 3]), op.Value);
        Assert.Equal("\"abc\"", ValueBytes.FromString("abc").ToString());
        Assert.Equal("0x010203", op.Value!.ToString());
    }

    [Fact]
    public void Invalid_histories_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new HistoryBuilder().Ok(1, Operation.Get("k"), 5, 4, OperationResult.ReadMissing()));
        Assert.Throws<ArgumentException>(() => new HistoryBuilder().Ok(1, Operation.Get("k"), 0, 1, OperationResult.Deleted(true)));
        var r = new OperationRecord(0, 1, Operation.Get("k"), 0, 1, OperationOutcome.Ok, OperationResult.ReadMissing());
        Assert.Throws<ArgumentException>(() => new History([r, r]));
        Assert.Throws<ArgumentException>(() => OperationResult.Read(true, (ValueBytes?)null, 1));
    }
}
