using Xunit;

namespace Storage.Raft.Tests.Scenarios;

public sealed class ElectionTests
{
    [Fact]
    public void CampaignWinsWithQuorumAndCommitsItsEmptyEntry()
    {
        var s = RaftScenario.Create(3);
        var term = s.Elect(1);

        Assert.Equal(2, term); // the bootstrap log is at term 1
        Assert.All(s.Nodes.Values, n => Assert.Equal(1, n.Raft.Leader));
        Assert.All(s.Nodes.Values, n => Assert.Equal(4, n.Raft.CommitIndex)); // 3 bootstrap entries + the no-op
    }

    [Fact]
    public void ElectionTimeoutElectsExactlyOneLeader()
    {
        var s = RaftScenario.Create(5);
        s.TickAll(25);

        var leader = Assert.Single(s.Leaders);
        Assert.All(s.Nodes.Values, n => Assert.Equal(leader.Raft.Id, n.Raft.Leader));
    }

    [Fact]
    public void PartitionedNodeRejoiningDoesNotDeposeHealthyLeaderWithPreVote()
    {
        var s = RaftScenario.Create(3);
        var term = s.Elect(1);
        s.Isolate(3);
        s.Tick(3, 60); // several election timeouts alone: pre-votes fail, the term must not move

        Assert.Equal(term, s[3].Raft.Term);
        s.Heal();
        s.TickAll(3);

        Assert.Equal(RaftRole.Leader, s[1].Raft.Role);
        Assert.Equal(term, s[1].Raft.Term);
        Assert.Equal(1, s[3].Raft.Leader);
    }

    [Fact]
    public void AStaleCandidateLearnsTheHigherTermFromTheRejection()
    {
        // Without the term in the rejection, a candidate whose requests only reach nodes of a higher term never
        // catches up, and two such candidates can campaign forever (the simulator's seed 35 did).
        var s = RaftScenario.Create(3, c => c with { PreVote = false, CheckQuorum = false });
        s.Elect(1);
        s.Isolate(2);
        s.Tick(2, 60);
        var higher = s[2].Raft.Term;

        s[3].Raft.Campaign();
        var requests = s.Take(m => m.Type == MessageType.Vote && m.From == 3);
        Assert.All(requests, m => Assert.True(m.Term < higher));
        s.Heal();
        s.Deliver(requests.Where(m => m.To == 2));
        var rejection = Assert.Single(s.Take(m => m.From == 2 && m.To == 3));
        Assert.Equal(MessageType.VoteResp, rejection.Type);
        Assert.True(rejection.Reject);
        Assert.Equal(higher, rejection.Term);

        s.Deliver(new[] { rejection });
        Assert.Equal(higher, s[3].Raft.Term);
        Assert.Equal(RaftRole.Follower, s[3].Raft.Role);
    }

    [Fact]
    public void WithoutPreVoteARejoiningNodeDisruptsTheLeader()
    {
        // The contrast that shows what PreVote buys.
        var s = RaftScenario.Create(3, c => c with { PreVote = false, CheckQuorum = false });
        var term = s.Elect(1);
        s.Isolate(3);
        s.Tick(3, 60);
        Assert.True(s[3].Raft.Term > term);

        s.Heal();
        s.TickAll(25); // node 3 campaigns again at its inflated term and forces an election
        Assert.True(s[1].Raft.Term > term);
    }

    [Fact]
    public void LeaderThatLostItsQuorumStepsDown()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Isolate(1);
        s.Tick(1, 9);
        Assert.Equal(RaftRole.Leader, s[1].Raft.Role); // acknowledgements from before the cut still count
        s.Tick(1, 11); // a full election timeout with none

        Assert.Equal(RaftRole.Follower, s[1].Raft.Role);
        Assert.Equal(0, s[1].Raft.Leader);
    }

    [Fact]
    public void VoteIsRefusedToACandidateWithAStaleLog()
    {
        var s = RaftScenario.Create(3, c => c with { PreVote = false, CheckQuorum = false });
        s.Elect(1);
        s.Cut(1, 3);
        s.Propose(1, "a"); // committed by 1 and 2; 3 never saw it
        Assert.Equal(5, s[2].Raft.CommitIndex);

        s.Isolate(1);
        s[3].Raft.Campaign();
        s.Stabilize();
        Assert.NotEqual(RaftRole.Leader, s[3].Raft.Role);
        Assert.NotEqual(3, s[2].Raft.Vote);

        s[2].Raft.Campaign();
        s.Stabilize();
        Assert.Equal(RaftRole.Leader, s[2].Raft.Role);
    }

    [Fact]
    public void OneVotePerTerm()
    {
        var s = RaftScenario.Create(3, c => c with { PreVote = false, CheckQuorum = false });
        s[1].Raft.Campaign();
        s[2].Raft.Campaign();
        var requests = s.Take(m => m.Type == MessageType.Vote);
        s.Deliver(requests.Where(m => m.To == 3 && m.From == 1));
        s.Deliver(requests.Where(m => m.To == 3 && m.From == 2));
        var answers = s.Take(m => m.From == 3 && m.Type == MessageType.VoteResp);

        Assert.Contains(answers, m => m.To == 1 && !m.Reject);
        Assert.Contains(answers, m => m.To == 2 && m.Reject);
        Assert.Equal(1, s[3].Raft.Vote);
    }
}
