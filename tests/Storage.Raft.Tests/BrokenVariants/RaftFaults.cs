namespace Storage.Raft.Tests.BrokenVariants;

/// <summary>Known-unsafe variants of the core that the simulator must catch (see <see cref="TestRaftNode"/>).</summary>
[Flags]
internal enum RaftFaults
{
    None = 0,

    /// <summary>Grant a vote to any up-to-date candidate, even after voting for another in the same term.</summary>
    DoubleVote = 1,

    /// <summary>Commit an entry of an older term once a quorum holds it (Raft paper, figure 8).</summary>
    CommitOldTermByCount = 2,

    /// <summary>A follower acknowledges appended entries before they are durable.</summary>
    AckBeforePersist = 4,

    /// <summary>A leader keeps its lease when it quiesces (and so serves lease reads from it while not ticked).</summary>
    KeepLeaseWhenQuiesced = 8,
}
