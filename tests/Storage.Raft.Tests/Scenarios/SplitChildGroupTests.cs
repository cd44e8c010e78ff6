using Xunit;

namespace Storage.Raft.Tests.Scenarios;

/// <summary>
/// A shard born from a split, as the replica grain starts it: replicas whose parent applied the split start from a
/// checkpoint at the split's index and term (and a hard state at that term: the grain raises a missing one to it);
/// a replica whose checkpoint was not written starts empty, with no membership, and must get everything from the
/// new group's leader by snapshot.
/// </summary>
public sealed class SplitChildGroupTests
{
    private const long SplitIndex = 50;
    private const long SplitTerm = 7;

    private static MemoryRaftLog Forked() =>
        new(new Snapshot(new SnapshotMetadata(SplitIndex, SplitTerm, new ConfState([11, 12, 13], [])), "forked"u8.ToArray()), new HardState(SplitTerm, 0, SplitIndex));

    [Fact]
    public void A_group_forked_from_checkpoints_elects_above_the_checkpoint_term_and_brings_an_empty_member_up_by_snapshot()
    {
        var s = RaftScenario.Create(0);
        s.AddNode(11, Forked());
        s.AddNode(12, Forked());
        s.AddNode(13); // its checkpoint never arrived: empty, no membership, no bootstrap

        var term = s.Elect(11);
        Assert.True(term > SplitTerm, $"leader term {term} is not above the checkpoint term {SplitTerm}");
        s.Propose(11, "after the split");
        s.TickAll(3);

        var empty = s[13];
        Assert.Equal(SplitIndex, empty.Storage.Snapshot.Index);
        Assert.Equal("forked", System.Text.Encoding.UTF8.GetString(empty.Storage.Snapshot.Data));
        Assert.Equal([11L, 12L, 13L], empty.Raft.Conf.Voters.Order());
        Assert.Equal(s[11].Raft.CommitIndex, empty.Raft.CommitIndex);
        Assert.Equal("after the split", empty.AppliedText);

        // Terms never go down along any log: every entry after the fork is at least the fork's term.
        foreach (var n in s.Nodes.Values)
        {
            Assert.All(n.Storage.AllEntries, e => Assert.True(e.Term >= SplitTerm, $"entry {e.Index} has term {e.Term}"));
        }
    }

    [Fact]
    public void The_empty_member_votes_so_a_majority_with_checkpoints_is_not_needed()
    {
        var s = RaftScenario.Create(0);
        s.AddNode(11, Forked());
        s.AddNode(12);
        s.AddNode(13);

        s.Elect(11);
        s.Propose(11, "x");

        Assert.All(s.Nodes.Values, n => Assert.Equal("x", n.AppliedText));
    }
}
