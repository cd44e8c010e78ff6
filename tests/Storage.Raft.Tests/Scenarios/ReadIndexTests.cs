using Xunit;

namespace Storage.Raft.Tests.Scenarios;

public sealed class ReadIndexTests
{
    [Fact]
    public void ReadIsReleasedOnlyAfterAHeartbeatQuorumConfirmsLeadership()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Propose(1, "a");

        Assert.True(s[1].Raft.ReadIndex(42));
        s.Process(1);
        Assert.Empty(s[1].Reads); // no confirmation yet
        s.Stabilize();

        var read = Assert.Single(s[1].Reads);
        Assert.Equal(42, read.Context);
        Assert.Equal(5, read.Index);
    }

    [Fact]
    public void IsolatedLeaderNeverReleasesARead()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Isolate(1);
        s[1].Raft.ReadIndex(7);
        s.Tick(1, 15);

        Assert.Empty(s[1].Reads);
    }

    [Fact]
    public void ConcurrentReadsShareOneHeartbeatRound()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Delivered.Clear();
        for (var ctx = 1; ctx <= 10; ctx++)
        {
            s[1].Raft.ReadIndex(ctx);
        }

        s.Stabilize();

        Assert.Equal(10, s[1].Reads.Count);
        Assert.Equal(2, s.Delivered.Count(m => m.Type == MessageType.Heartbeat)); // one per follower
    }

    [Fact]
    public void FollowerReadIsForwardedToTheLeader()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Propose(1, "a");

        Assert.True(s[2].Raft.ReadIndex(9));
        s.Stabilize();

        var read = Assert.Single(s[2].Reads);
        Assert.Equal(9, read.Context);
        Assert.Equal(s[1].Raft.CommitIndex, read.Index);
    }

    [Fact]
    public void FollowerWithoutALeaderRefusesToStartARead()
    {
        var s = RaftScenario.Create(3);
        Assert.False(s[2].Raft.ReadIndex(1));
    }

    [Fact]
    public void NewLeaderDefersReadsUntilItCommitsInItsTerm()
    {
        var s = RaftScenario.Create(3);
        s[1].Raft.Campaign();
        s.Deliver(s.Take(m => m.Type == MessageType.PreVote));
        s.Deliver(s.Take(m => m.Type == MessageType.PreVoteResp));
        s.Deliver(s.Take(m => m.Type == MessageType.Vote));
        s.Deliver(s.Take(m => m.Type == MessageType.VoteResp));
        Assert.Equal(RaftRole.Leader, s[1].Raft.Role);

        s[1].Raft.ReadIndex(5);
        s.Deliver(s.Take(m => m.Type == MessageType.Heartbeat));
        s.Deliver(s.Take(m => m.Type == MessageType.HeartbeatResp));
        s.ProcessAll();
        Assert.Empty(s[1].Reads); // the no-op is not committed yet

        s.Stabilize();
        var read = Assert.Single(s[1].Reads);
        Assert.True(read.Index >= 4);
    }

    [Fact]
    public void LeaseReadIsServedLocallyWhileTheLeaseHoldsAndNotAfter()
    {
        var s = RaftScenario.Create(3, c => c with { ReadOnlyOption = ReadOnlyOption.LeaseBased, MaxClockDriftTicks = 2 });
        s.TickAll(30);
        var leader = Assert.Single(s.Leaders).Raft;
        s.TickAll(1); // a heartbeat round acknowledged by a quorum renews the lease

        s.Isolate(leader.Id);
        Assert.True(leader.TryLeaseRead(out var index));
        Assert.Equal(leader.CommitIndex, index);
        leader.ReadIndex(1);
        s.Process(leader.Id);
        Assert.Single(s[leader.Id].Reads); // served without a round trip

        s.Tick(leader.Id, 8); // ElectionTick - drift ticks after the round began: the lease is over
        Assert.False(leader.TryLeaseRead(out _));
        leader.ReadIndex(2);
        s.Process(leader.Id);
        Assert.Single(s[leader.Id].Reads);
    }

    [Fact]
    public void ALeaderThatSentTimeoutNowServesNoLeaseReadForTheRestOfItsTerm()
    {
        // The target campaigns past every follower's lease, even if the transfer was given up before TimeoutNow
        // arrived: renewed heartbeat rounds must not bring the lease back in that term.
        var s = RaftScenario.Create(3, c => c with { ReadOnlyOption = ReadOnlyOption.LeaseBased, MaxClockDriftTicks = 2 });
        s.TickAll(30);
        var leader = Assert.Single(s.Leaders).Raft;
        var target = s.Nodes.Keys.First(id => id != leader.Id);
        s.TickAll(1);

        Assert.True(leader.TransferLeadership(target));
        var timeoutNow = s.Take(m => m.Type == MessageType.TimeoutNow); // lost in the network, for now
        Assert.Single(timeoutNow);
        s.TickAll(25); // the transfer is abandoned; heartbeat rounds go on being confirmed
        Assert.Equal(RaftRole.Leader, leader.Role);

        leader.ReadIndex(1);
        s.Process(leader.Id);
        Assert.Empty(s[leader.Id].Reads); // waits for a round: no lease
        s.Stabilize();
        Assert.Single(s[leader.Id].Reads);
    }

    [Fact]
    public void WithLeasesARestartedNodeWaitsAnElectionTimeoutBeforeVoting()
    {
        // It may have acknowledged the heartbeat that extended the current leader's lease just before it crashed.
        var s = RaftScenario.Create(3, c => c with { ReadOnlyOption = ReadOnlyOption.LeaseBased, PreVote = false });
        s[1].Raft.Campaign();
        s.Stabilize();
        Assert.NotEqual(RaftRole.Leader, s[1].Raft.Role);

        s.TickAll(30);
        Assert.Single(s.Leaders);
    }
}
