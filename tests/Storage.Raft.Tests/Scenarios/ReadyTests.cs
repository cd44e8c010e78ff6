using Xunit;

namespace Storage.Raft.Tests.Scenarios;

/// <summary>What may leave a node before its state is durable, and what may not.</summary>
public sealed class ReadyTests
{
    [Fact]
    public void FollowerAcknowledgesAppendsOnlyAfterPersistingThem()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s[1].Raft.Propose(new byte[] { 7 });
        s.Deliver(s.Take(m => m.Type == MessageType.App && m.To == 2));

        var ready = s[2].Raft.TakeReady()!;
        Assert.NotEmpty(ready.Entries);
        Assert.DoesNotContain(ready.Messages, m => m.Type == MessageType.AppResp);
        Assert.Contains(ready.PersistedMessages, m => m.Type == MessageType.AppResp && m.Index == ready.Entries[^1].Index);
    }

    [Fact]
    public void LeaderSendsAppendsBeforeItsOwnWriteIsDurable()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s[1].Raft.Propose(new byte[] { 7 });

        var ready = s[1].Raft.TakeReady()!;
        var entry = Assert.Single(ready.Entries);
        Assert.Equal(2, ready.Messages.Count(m => m.Type == MessageType.App && m.Entries.Contains(entry)));
    }

    [Fact]
    public void CandidateAsksForVotesOnlyAfterPersistingItsOwnVote()
    {
        var s = RaftScenario.Create(3, c => c with { PreVote = false });
        s[1].Raft.Campaign();

        var ready = s[1].Raft.TakeReady()!;
        Assert.Equal(1, ready.HardState!.Value.Vote);
        Assert.Empty(ready.Messages);
        Assert.Equal(2, ready.PersistedMessages.Count(m => m.Type == MessageType.Vote));
    }

    [Fact]
    public void OnlyOneReadyIsOutstanding()
    {
        var s = RaftScenario.Create(1);
        s[1].Raft.Campaign();
        var first = s[1].Raft.TakeReady();
        Assert.NotNull(first);
        Assert.Null(s[1].Raft.TakeReady());
        Assert.Throws<InvalidOperationException>(() => s[1].Raft.Advance(new RaftScenarioFakeReady().Value));
    }

    [Fact]
    public void SingleVoterCommitsOnlyWhatItPersisted()
    {
        var s = RaftScenario.Create(1);
        s.Elect(1);
        s[1].Raft.Propose(new byte[] { 1 });
        var ready = s[1].Raft.TakeReady()!;
        Assert.Single(ready.Entries);
        Assert.Equal(2, s[1].Raft.CommitIndex); // not committed before its own write is durable
        s[1].Storage.Append(ready.Entries);
        s[1].Raft.Advance(ready);
        Assert.Equal(3, s[1].Raft.CommitIndex);
    }

    [Fact]
    public void ANewCommitIndexAloneNeedNotBeDurableAndIsRelearnedAfterARestart()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s[1].Raft.Propose(new byte[] { 7 });
        var index = s[1].Raft.LastIndex;

        // The entry reaches node 2 and is acknowledged; the commit index comes later, alone.
        s.Deliver(s.Take(m => m.Type == MessageType.App && m.To == 2));
        s.Deliver(s.Take(m => m.Type == MessageType.AppResp && m.To == 1));
        Assert.Equal(index, s[1].Raft.CommitIndex);
        s.Deliver(s.Take(m => m.To == 2));
        var ready = s[2].Raft.TakeReady()!;
        Assert.Equal(index, ready.HardState!.Value.Commit);
        Assert.Empty(ready.Entries);
        Assert.False(ready.TermOrVoteChanged);
        Assert.False(ready.MustPersist);
        Assert.Contains(ready.CommittedEntries, e => e.Index == index);
        s[2].Raft.Advance(ready);
        Assert.True(s[2].Storage.HardState.Commit < index); // nothing was written

        // After a crash node 2 starts from the older commit index and relearns the rest from the leader.
        s.Restart(2);
        Assert.True(s[2].Raft.CommitIndex < index);
        s.TickAll(3);
        Assert.True(s[2].Raft.CommitIndex >= index);
        Assert.Contains(s[2].Applied, e => e.Index == index && e.Data.SequenceEqual(new byte[] { 7 }));
    }

    [Fact]
    public void ANewTermOrVoteMustBeDurable()
    {
        var s = RaftScenario.Create(3, c => c with { PreVote = false });
        s[1].Raft.Campaign();
        var ready = s[1].Raft.TakeReady()!;
        Assert.True(ready.TermOrVoteChanged);
        Assert.True(ready.MustPersist);
    }

    /// <summary>A Ready that did not come from the node.</summary>
    private sealed class RaftScenarioFakeReady
    {
        public Ready Value { get; } = RaftScenario.Create(1).Pipe(s =>
        {
            s[1].Raft.Campaign();
            return s[1].Raft.TakeReady()!;
        });
    }
}

internal static class PipeExtensions
{
    public static TOut Pipe<TIn, TOut>(this TIn value, Func<TIn, TOut> f) => f(value);
}
