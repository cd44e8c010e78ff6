using Storage.Raft.Tests.BrokenVariants;
using Xunit;

namespace Storage.Raft.Tests.Scenarios;

public sealed class ReplicationTests
{
    [Fact]
    public void CommittedEntriesAreAppliedEverywhereInOrder()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        foreach (var v in new[] { "a", "b", "c" })
        {
            Assert.True(s.Propose(1, v).IsAccepted);
        }

        Assert.All(s.Nodes.Values, n => Assert.Equal("a,b,c", n.AppliedText));
    }

    [Fact]
    public void ProposalOnAFollowerIsRejectedWithTheLeadersId()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        var r = s[2].Raft.Propose(new byte[] { 1 });

        Assert.Equal(ProposeOutcome.NotLeader, r.Outcome);
        Assert.Equal(1, r.Leader);
    }

    [Fact]
    public void AppendsAreBatchedWithinMaxSizePerMsg()
    {
        var s = RaftScenario.Create(3, c => c with { MaxSizePerMsg = 100 });
        s.Elect(1);
        s.Cut(1, 3);
        for (var i = 0; i < 10; i++)
        {
            s.Propose(1, new string('x', 20)); // 44 bytes each with overhead: two fit in 100
        }

        s.Heal();
        s.Delivered.Clear();
        s.TickAll(3);

        var appendsTo3 = s.Delivered.Where(m => m.Type == MessageType.App && m.To == 3 && m.Entries.Count > 0).ToList();
        Assert.NotEmpty(appendsTo3);
        Assert.All(appendsTo3, m => Assert.True(m.Entries.Count == 1 || m.Entries.Sum(e => e.Size) <= 100));
        Assert.Contains(appendsTo3, m => m.Entries.Count == 2);
        Assert.Equal(s[1].AppliedText, s[3].AppliedText);
    }

    [Fact]
    public void InflightWindowBoundsUnacknowledgedAppends()
    {
        var s = RaftScenario.Create(3, c => c with { MaxInflightMsgs = 4 });
        s.Elect(1);
        s.CutOneWay(2, 1); // follower 2 receives but its acknowledgements are lost
        s.Delivered.Clear();
        for (var i = 0; i < 10; i++)
        {
            s.Propose(1, $"v{i}");
        }

        var appendsTo2 = s.Delivered.Count(m => m.Type == MessageType.App && m.To == 2 && m.Entries.Count > 0);
        Assert.Equal(4, appendsTo2);
        Assert.Equal(14, s[1].Raft.CommitIndex); // follower 3 still forms the quorum
    }

    [Fact]
    public void RejectionHintSkipsAConflictingTermInOneRoundTrip()
    {
        var s = RaftScenario.Create(3, c => c with { PreVote = false, CheckQuorum = false });
        s.Elect(1);
        s.Isolate(1);
        for (var i = 0; i < 20; i++)
        {
            s.Propose(1, $"lost{i}"); // 5..24 at term 2, only on node 1
        }

        s[2].Raft.Campaign();
        s.Stabilize();
        for (var i = 0; i < 20; i++)
        {
            s.Propose(2, $"kept{i}"); // no-op at 5, then 6..25 at term 3, on 2 and 3
        }

        // Node 3 leads term 4 with node 1's vote (1's last term is older); 1 has 20 conflicting entries.
        s.Isolate(2);
        s.Heal();
        s.Isolate(2);
        s.Delivered.Clear();
        s[3].Raft.Campaign();
        s.Stabilize();
        Assert.Equal(RaftRole.Leader, s[3].Raft.Role);

        var rejections = s.Delivered.Count(m => m.Type == MessageType.AppResp && m.From == 1 && m.Reject);
        Assert.Equal(1, rejections); // one probe skips the whole term-2 run; without hints it would take 21
        Assert.Equal(s[3].AppliedText, s[1].AppliedText);
        Assert.StartsWith("kept0,", s[1].AppliedText);
    }

    [Fact]
    public void LeaderCommitsAnOldTermEntryOnlyThroughAnEntryOfItsOwnTerm()
    {
        var s = OldTermScenario(RaftFaults.None, out var leader);
        // A quorum holds entries 4 and 5 (term 2), yet neither is committed: the restart forgot commit index 4 (a
        // commit index alone is not made durable) and term-2 entries are not committed by counting.
        Assert.Equal(3, leader.CommitIndex);

        var noop = s.Take(m => m.To == 2 && m.Type == MessageType.App).Single();
        Assert.Equal(3, noop.Entries.Single().Term);
        s.Deliver(new[] { noop });
        s.Deliver(s.Take(m => m.From == 2 && m.Type == MessageType.AppResp));
        s.ProcessAll();
        Assert.Equal(6, leader.CommitIndex); // its own-term entry commits both
    }

    [Fact]
    public void BrokenVariantCommitsTheOldTermEntryByCounting()
    {
        // What RaftFaults.CommitOldTermByCount does, shown on the Raft paper's figure-8 precondition.
        OldTermScenario(RaftFaults.CommitOldTermByCount, out var leader);
        Assert.Equal(5, leader.CommitIndex);
    }

    /// <summary>
    /// Leader 1 of term 3 holds entry 5 from term 2 that only it has; follower 2 gets entry 5 but not yet
    /// the term-3 no-op (one entry per message), so a quorum {1, 2} holds an old-term entry.
    /// </summary>
    private static RaftScenario OldTermScenario(RaftFaults faults, out RaftNode leader)
    {
        var s = RaftScenario.Create(3, c => c with { MaxSizePerMsg = 1, PreVote = false, CheckQuorum = false }, faults);
        s.Elect(1); // term 2, no-op at 4
        s.Isolate(1);
        s.Propose(1, "x"); // (5, t2) on node 1 only
        s.Heal();
        s.InFlight.Clear();
        s.Restart(1);
        s[1].Raft.Campaign();
        s.Deliver(s.Take(m => m.Type == MessageType.Vote));
        s.Deliver(s.Take(m => m.Type == MessageType.VoteResp));
        leader = s[1].Raft;
        Assert.Equal(RaftRole.Leader, leader.Role);
        Assert.Equal(3, leader.Term);

        s.Deliver(s.Take(m => m.To == 2 && m.Type == MessageType.App)); // probe after 5: rejected
        var rejection = s.Take(m => m.From == 2 && m.Type == MessageType.AppResp).Single();
        Assert.True(rejection.Reject);
        s.Deliver(new[] { rejection });
        var old = s.Take(m => m.To == 2 && m.Type == MessageType.App).Single();
        Assert.Equal((5L, 2L), (old.Entries.Single().Index, old.Entries.Single().Term));
        s.Deliver(new[] { old });
        var ack = s.Take(m => m.From == 2 && m.Type == MessageType.AppResp).Single();
        Assert.Equal(5, ack.Index);
        s.Deliver(new[] { ack });
        s.ProcessAll();
        return s;
    }
}
