using Xunit;

namespace Storage.Raft.Tests.Scenarios;

public sealed class QuiescenceTests
{
    private const int After = 3;

    private static RaftScenario Create(int voters = 3, ReadOnlyOption reads = ReadOnlyOption.Safe) =>
        RaftScenario.Create(voters, c => c with { QuiesceAfterTicks = After, ReadOnlyOption = reads });

    /// <summary>An elected group with one committed write, quiesced by <see cref="After"/> idle ticks.</summary>
    private static RaftScenario Quiesced(ReadOnlyOption reads = ReadOnlyOption.Safe)
    {
        var s = Create(reads: reads);
        s.Elect(1);
        s.Propose(1, "a");
        s.TickAll(After);
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));
        return s;
    }

    /// <summary>
    /// A group with leases led by node 1, past the election timeout during which a node with leases refuses to vote.
    /// </summary>
    private static RaftScenario LeaseGroup()
    {
        var s = Create(reads: ReadOnlyOption.LeaseBased);
        foreach (var n in s.Nodes.Values)
        {
            for (var i = 0; i < 10; i++)
            {
                n.Raft.Tick(); // nothing leaves: the messages of a campaign would be dropped below
            }
        }

        s.ProcessAll();
        s.InFlight.Clear();
        s.Elect(1);
        return s;
    }

    [Fact]
    public void IdleGroupQuiescesAfterTheConfiguredTicksAndThenSendsNothing()
    {
        var s = Create();
        s.Elect(1);
        s.Propose(1, "a");

        s.TickAll(After - 1);
        Assert.DoesNotContain(s.Nodes.Values, n => n.Raft.IsQuiesced);

        s.Delivered.Clear();
        s.TickAll(1);
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.Status().Quiesced));

        // One quiesce heartbeat per follower, carrying the leader's last entry and commit; nobody answers it.
        var quiesce = s.Delivered.Where(m => m.Quiesce).ToList();
        Assert.Equal(new long[] { 2, 3 }, quiesce.Select(m => m.To).Order());
        Assert.All(quiesce, m => Assert.Equal((s[1].Raft.LastIndex, s[1].Raft.Term, s[1].Raft.CommitIndex), (m.Index, m.LogTerm, m.Commit)));
        Assert.Equal(quiesce.Count, s.Delivered.Count);

        // Ticks are no-ops now: no messages, no time.
        var ticks = s.Nodes.Values.Select(n => n.Raft.TickCount).ToList();
        s.Delivered.Clear();
        s.TickAll(5 * 10);
        Assert.Empty(s.Delivered);
        Assert.Equal(ticks, s.Nodes.Values.Select(n => n.Raft.TickCount));
        Assert.Equal(RaftRole.Leader, s[1].Raft.Role);
    }

    [Fact]
    public void WithQuiescenceOffAGroupNeverQuiesces()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Propose(1, "a");
        s.TickAll(50);

        Assert.DoesNotContain(s.Nodes.Values, n => n.Raft.IsQuiesced);
        Assert.DoesNotContain(s.Delivered, m => m.Quiesce);
    }

    [Fact]
    public void ProposalWakesTheLeaderAndTheEntryCommitsEverywhere()
    {
        var s = Quiesced();

        var r = s.Propose(1, "b");

        Assert.True(r.IsAccepted);
        Assert.DoesNotContain(s.Nodes.Values, n => n.Raft.IsQuiesced);
        Assert.All(s.Nodes.Values, n => Assert.Equal("a,b", n.AppliedText));

        // Idle again: quiesces again.
        s.TickAll(After);
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));
    }

    [Fact]
    public void ProposalAtAQuiescedFollowerWakesItAndItsLeader()
    {
        var s = Quiesced();

        var r = s[2].Raft.Propose("x"u8.ToArray());
        Assert.Equal(ProposeOutcome.NotLeader, r.Outcome);
        Assert.Equal(1, r.Leader);
        Assert.False(s[2].Raft.IsQuiesced);

        // The follower asks its leader to wake (an acknowledgement of no round); the leader's heartbeats wake the rest.
        var ping = Assert.Single(s.Take(m => m.From == 2));
        Assert.Equal((MessageType.HeartbeatResp, 1L, 0L), (ping.Type, ping.To, ping.Context));
        s.Deliver(new[] { ping });
        s.Stabilize();
        Assert.DoesNotContain(s.Nodes.Values, n => n.Raft.IsQuiesced);
        Assert.Equal(RaftRole.Leader, s[1].Raft.Role);
    }

    [Fact]
    public void DeadFollowerDoesNotKeepTheGroupAwakeAndIsCaughtUpWhenItReturns()
    {
        var s = Create();
        s.Elect(1);

        // Node 3 is down: never ticked, and nothing reaches it.
        var toThree = new List<Message>();
        s[1].Raft.Propose("a"u8.ToArray());
        var ticks = 0;
        bool ToThreeIsLost(Message m)
        {
            if (m.To == 3)
            {
                toThree.Add(m);
                return false;
            }

            return true;
        }

        for (s.Stabilize(ToThreeIsLost); ticks < 40 && !s[1].Raft.IsQuiesced; ticks++)
        {
            s[1].Raft.Tick();
            s[2].Raft.Tick();
            s.Stabilize(ToThreeIsLost);
        }

        // It kept the group awake only until it had been silent for an election timeout.
        Assert.True(s[1].Raft.IsQuiesced);
        Assert.True(s[2].Raft.IsQuiesced);
        Assert.InRange(ticks, 10, 10 + After);
        Assert.True(s[1].Raft.Status().Progress[3].Match < s[1].Raft.LastIndex);

        // It comes back and the quiesce heartbeat reaches it: its log lacks the leader's last entry, so it does not
        // quiesce; its answer wakes the leader, which appends to it.
        var quiesce = toThree.Last(m => m.Quiesce);
        s.Deliver(new[] { quiesce });
        Assert.False(s[3].Raft.IsQuiesced);
        s.Stabilize();
        Assert.False(s[1].Raft.IsQuiesced);
        Assert.Equal("a", s[3].AppliedText);

        s.TickAll(After);
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));
    }

    [Fact]
    public void FollowerWhoseLogDoesNotEndAtTheLeadersLastEntryDoesNotQuiesce()
    {
        var s = Create();
        s.Elect(1);
        s.Propose(1, "a");
        s.TickAll(After - 1);

        // The leader quiesces; its quiesce heartbeat to node 3 is overtaken by the append of a new write.
        s[1].Raft.Tick();
        s[2].Raft.Tick();
        s[3].Raft.Tick();
        var late = Assert.Single(s.Take(m => m.Quiesce && m.To == 3));
        s.Stabilize();
        Assert.True(s[1].Raft.IsQuiesced);
        s.Propose(1, "b");
        Assert.Equal("a,b", s[3].AppliedText);

        s.Deliver(new[] { late });
        Assert.False(s[3].Raft.IsQuiesced);
        var answer = Assert.Single(s.Take(m => m.From == 3));
        Assert.Equal((MessageType.HeartbeatResp, 0L), (answer.Type, answer.Context));

        // It keeps ticking (a quiesced node's tick count stands still).
        var before = s[3].Raft.TickCount;
        s[3].Raft.Tick();
        Assert.Equal(before + 1, s[3].Raft.TickCount);
    }

    [Fact]
    public void QuiescedLeaderHoldsNoLeaseSoAReadWakesItAndWaitsForAHeartbeatRound()
    {
        var s = LeaseGroup();
        s.Propose(1, "a");
        s.TickAll(After - 1);
        Assert.True(s[1].Raft.TryLeaseRead(out _)); // a round confirmed the lease, which has ticks to run

        s.TickAll(1);
        Assert.True(s[1].Raft.IsQuiesced);

        // The lease would still run by the leader's frozen tick count, but it was dropped on quiescing.
        Assert.False(s[1].Raft.TryLeaseRead(out _));
        Assert.True(s[1].Raft.ReadIndex(42));
        Assert.False(s[1].Raft.IsQuiesced);
        s.Process(1);
        Assert.Empty(s[1].Reads);

        s.Delivered.Clear();
        s.Stabilize();
        var read = Assert.Single(s[1].Reads);
        Assert.Equal((42L, s[1].Raft.CommitIndex), (read.Context, read.Index));
        Assert.Contains(s.Delivered, m => m.Type == MessageType.Heartbeat && !m.Quiesce && m.Context != 0);
        Assert.Contains(s.Delivered, m => m.Type == MessageType.HeartbeatResp && m.Context != 0);
    }

    [Fact]
    public void LateAcknowledgementOfARoundBeforeQuiescenceNeitherWakesNorGrantsALease()
    {
        var s = LeaseGroup();
        s.Propose(1, "a");
        s.TickAll(After - 2);

        // The last heartbeat round before quiescence is answered, but the answers arrive after the leader quiesced.
        s[1].Raft.Tick();
        s.Deliver(s.Take(m => m.Type == MessageType.Heartbeat));
        var acks = s.Take(m => m.Type == MessageType.HeartbeatResp);
        Assert.Equal(2, acks.Count);
        s[1].Raft.Tick();
        s.Stabilize();
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));

        s.Deliver(acks);
        Assert.True(s[1].Raft.IsQuiesced);
        Assert.False(s[1].Raft.TryLeaseRead(out _));
        s.Stabilize();
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));
    }

    [Fact]
    public void MessageFromAHigherTermWakesAQuiescedNode()
    {
        var s = Quiesced();
        var term = s[1].Raft.Term;

        // Node 2 campaigns (pre-vote for term + 1); its request reaches node 3 first.
        s[2].Raft.Campaign();
        var preVote = Assert.Single(s.Take(m => m.Type == MessageType.PreVote && m.To == 3));
        Assert.Equal(term + 1, preVote.Term);
        s.Deliver(new[] { preVote });
        Assert.False(s[3].Raft.IsQuiesced);

        // The followers still in the leader's lease ignore the campaign; the leader, woken, heartbeats, and the group
        // settles under it and quiesces again.
        s.Stabilize();
        Assert.False(s[1].Raft.IsQuiesced);
        Assert.Equal((RaftRole.Leader, term), (s[1].Raft.Role, s[1].Raft.Term));
        s.TickAll(After + 1);
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));
    }

    [Fact]
    public void QuiescedGroupWithADeadLeaderElectsOnceTheHostWakesAFollower()
    {
        var s = Quiesced();
        var term = s[1].Raft.Term;
        s.Isolate(1);

        // Nothing happens without a wake-up: the host ticks no quiesced node.
        s.TickAll(100);
        Assert.DoesNotContain(s.Leaders, n => n.Raft.Term > term);

        // The host learns that node 1 is gone and wakes the replicas that follow it (RaftNode.Wake).
        s[2].Raft.Wake();
        s[3].Raft.Wake();
        for (var i = 0; i < 100 && !s.Leaders.Any(n => n.Raft.Term > term); i++)
        {
            s.TickAll(1);
        }

        var leader = Assert.Single(s.Leaders, n => n.Raft.Term > term);
        Assert.True(leader.Raft.Propose("b"u8.ToArray()).IsAccepted);
        s.Stabilize();

        // Node 1 is back, still quiesced as the leader of its term: the new leader's heartbeat wakes it and it follows.
        Assert.True(s[1].Raft.IsQuiesced);
        s.Heal();
        s.TickAll(1);
        Assert.False(s[1].Raft.IsQuiesced);
        Assert.Equal((RaftRole.Follower, leader.Raft.Id), (s[1].Raft.Role, s[1].Raft.Leader));
        s.TickAll(2);
        Assert.Equal("a,b", s[1].AppliedText);
    }

    [Fact]
    public void LeadershipTransferWakesAQuiescedLeaderAndCompletes()
    {
        var s = Quiesced();

        Assert.True(s[1].Raft.TransferLeadership(2));
        s.Stabilize();

        Assert.Equal(RaftRole.Leader, s[2].Raft.Role);
        Assert.Equal(2, s[1].Raft.Leader);
        Assert.DoesNotContain(s.Nodes.Values, n => n.Raft.IsQuiesced);
    }

    [Fact]
    public void MembershipChangeWakesAQuiescedLeaderAndTheNewLearnerJoinsTheNextQuiescence()
    {
        var s = Quiesced();

        Assert.True(s[1].Raft.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 4)).IsAccepted);
        Assert.False(s[1].Raft.IsQuiesced);
        s.AddNode(4);
        s.Stabilize();
        Assert.Equal("a", s[4].AppliedText);

        s.TickAll(After + 1);
        Assert.All(s.Nodes.Values, n => Assert.True(n.Raft.IsQuiesced));
        Assert.Equal(s[1].Raft.LastIndex, s[4].Raft.LastIndex);
    }

    [Fact]
    public void NegativeQuiesceAfterTicksIsRejected()
    {
        var config = new RaftConfig { Id = 1, QuiesceAfterTicks = -1 };
        Assert.Throws<ArgumentException>(config.Validate);
    }
}
