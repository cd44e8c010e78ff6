using Xunit;

namespace Storage.Raft.Tests.Scenarios;

public sealed class SnapshotTests
{
    [Fact]
    public void FollowerBehindTheCompactedLogGetsTheSnapshotAndResumes()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Cut(1, 3);
        for (var i = 0; i < 10; i++)
        {
            s.Propose(1, $"v{i}");
        }

        var leader = s[1];
        var at = leader.Raft.AppliedIndex;
        leader.Storage.Compact(at, leader.Raft.ConfStateAt(at), System.Text.Encoding.UTF8.GetBytes(leader.AppliedText));
        Assert.True(leader.Raft.FirstIndex > s[3].Raft.LastIndex + 1);

        s.Heal();
        s.Delivered.Clear();
        s.TickAll(2);
        s.Propose(1, "after");

        var snap = Assert.Single(s.Delivered, m => m.Type == MessageType.Snap && m.To == 3);
        Assert.Equal(at, snap.Snapshot!.Index);
        Assert.Equal(at, s[3].Storage.Snapshot.Index);
        Assert.Equal(s[1].Raft.CommitIndex, s[3].Raft.CommitIndex);
        Assert.Equal("after", s[3].AppliedText); // applied from the log after the snapshot
        Assert.Equal(leader.Raft.Conf, s[3].Raft.Conf);
    }

    [Fact]
    public void RestartedNodeRecoversFromItsSnapshotPlusLogTail()
    {
        var s = RaftScenario.Create(3);
        s.Elect(1);
        s.Propose(1, "a");
        s.Propose(1, "b");
        var follower = s[2];
        var at = follower.Raft.AppliedIndex;
        follower.Storage.Compact(at, follower.Raft.ConfStateAt(at), Array.Empty<byte>());
        s.Propose(1, "c");

        s.Restart(2);
        s.Stabilize();
        s.TickAll(1);

        Assert.Equal(s[1].Raft.CommitIndex, s[2].Raft.CommitIndex);
        Assert.Equal("a,b,c", s[2].AppliedText); // a, b from the snapshot; c re-applied from the log tail
        Assert.Equal(s[2].Applied.Select(e => e.Index).Distinct().Count(), s[2].Applied.Count);
        Assert.Equal(at, s[2].Storage.Snapshot.Index);
    }
}
