using Xunit;

namespace Storage.Raft.Tests.Scenarios;

public sealed class LeadershipTransferTests
{
    [Fact]
    public void CaughtUpFollowerTakesOver()
    {
        var s = RaftScenario.Create(3);
        var term = s.Elect(1);
        Assert.True(s[1].Raft.TransferLeadership(2));
        s.Stabilize();

        Assert.Equal(RaftRole.Leader, s[2].Raft.Role);
        Assert.Equal(term + 1, s[2].Raft.Term);
        Assert.Equal(2, s[1].Raft.Leader);
    }

    [Fact]
    public void TransferToALaggingFollowerWaitsForItToCatchUp()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Cut(1, 3);
        s.Propose(1, "a");
        s.Heal();

        Assert.True(s[1].Raft.TransferLeadership(3));
        Assert.Equal(ProposeOutcome.TransferInProgress, s[1].Raft.Propose(new byte[] { 1 }).Outcome);
        s.Stabilize();

        Assert.Equal(RaftRole.Leader, s[3].Raft.Role);
        Assert.Contains("a", s[3].AppliedText);
    }

    [Fact]
    public void TransferIsAbandonedIfTheTargetDoesNotCatchUpWithinAnElectionTimeout()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Isolate(3);
        s.Propose(1, "a");

        Assert.True(s[1].Raft.TransferLeadership(3));
        Assert.Equal(3, s[1].Raft.Status().LeadTransferee);
        s.Tick(1, 10);

        Assert.Equal(0, s[1].Raft.Status().LeadTransferee);
        Assert.Equal(RaftRole.Leader, s[1].Raft.Role);
        Assert.True(s[1].Raft.Propose(new byte[] { 1 }).IsAccepted);
    }

    [Fact]
    public void TransferToANonVoterIsRefused()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        Assert.False(s[1].Raft.TransferLeadership(9));
        Assert.False(s[2].Raft.TransferLeadership(3)); // not the leader
    }
}
