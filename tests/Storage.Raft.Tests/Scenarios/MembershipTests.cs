using Xunit;

namespace Storage.Raft.Tests.Scenarios;

public sealed class MembershipTests
{
    [Fact]
    public void LearnerCatchesUpButNeitherVotesNorCountsTowardCommit()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Propose(1, "a");
        Assert.True(s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 4)).IsAccepted);
        s.AddNode(4);
        s.Stabilize();
        s.TickAll(2);

        Assert.Equal("a", s[4].AppliedText);
        Assert.Equal(new long[] { 4 }, s[4].Raft.Conf.Learners);

        s.Cut(1, 2);
        s.Cut(1, 3);
        s.Propose(1, "b");
        Assert.DoesNotContain("b", s[1].AppliedText); // leader + learner are not a quorum

        s.Tick(4, 50);
        Assert.Equal(RaftRole.Follower, s[4].Raft.Role); // learners never campaign
    }

    [Fact]
    public void LearnerIsPromotedToVoter()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 4));
        s.AddNode(4);
        s.Stabilize();
        var promote = s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddVoter, 4));
        s.Stabilize();

        Assert.True(promote.IsAccepted);
        Assert.Equal(new long[] { 1, 2, 3, 4 }, s[4].Raft.Conf.Voters);
        Assert.Empty(s[1].Raft.Conf.Learners);

        // With four voters, two nodes are no longer a quorum.
        s.Cut(1, 3);
        s.Cut(1, 4);
        s.Propose(1, "x");
        Assert.DoesNotContain("x", s[1].AppliedText);
    }

    [Fact]
    public void SecondChangeIsRefusedWhileTheFirstIsUncommitted()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Isolate(1);

        Assert.True(s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 4)).IsAccepted);
        var second = s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 5));

        Assert.Equal(ProposeOutcome.ConfChangeRejected, second.Outcome);
        s.Heal();
        s.Stabilize();
        Assert.True(s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 5)).IsAccepted);
    }

    [Fact]
    public void NewLeaderRefusesChangesUntilItsOwnEntryIsCommitted()
    {
        var s = RaftScenario.Create(3);
        s[1].Raft.Campaign();
        s.Deliver(s.Take(m => m.Type == MessageType.PreVote));
        s.Deliver(s.Take(m => m.Type == MessageType.PreVoteResp));
        s.Deliver(s.Take(m => m.Type == MessageType.Vote));
        s.Deliver(s.Take(m => m.Type == MessageType.VoteResp));
        Assert.Equal(RaftRole.Leader, s[1].Raft.Role);

        var early = s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 4));
        Assert.Equal(ProposeOutcome.ConfChangeRejected, early.Outcome);
    }

    [Fact]
    public void InvalidChangesAreRefused()
    {
        var s = RaftScenario.Create(1);
        s.Elect(1);
        Assert.Equal(ProposeOutcome.ConfChangeRejected, s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddVoter, 1)).Outcome);
        Assert.Equal(ProposeOutcome.ConfChangeRejected, s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 9)).Outcome);
        Assert.Equal(ProposeOutcome.ConfChangeRejected, s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 1)).Outcome);
    }

    [Fact]
    public void RemovedLeaderStepsDownAndTheRestElectANewOne()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        Assert.True(s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 1)).IsAccepted);
        s.Stabilize();

        Assert.NotEqual(RaftRole.Leader, s[1].Raft.Role);
        s.TickAll(25);
        var leader = Assert.Single(s.Leaders);
        Assert.NotEqual(1, leader.Raft.Id);
        Assert.Equal(new long[] { 2, 3 }, leader.Raft.Conf.Voters);
        Assert.True(s.Propose(leader.Raft.Id, "after").IsAccepted);
        Assert.Contains("after", s[2].AppliedText);
    }
}
