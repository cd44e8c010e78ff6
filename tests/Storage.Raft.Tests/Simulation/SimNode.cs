using Storage.Raft.Tests.BrokenVariants;

namespace Storage.Raft.Tests.Simulation;

/// <summary>One simulated server: durable storage survives a crash, everything else does not.</summary>
internal sealed class SimNode
{
    public SimNode(long id, MemoryRaftLog storage)
    {
        Id = id;
        Storage = storage;
        Machine = SimStateMachine.Restore(storage.Snapshot);
    }

    public long Id { get; }

    /// <summary>What is on "disk".</summary>
    public MemoryRaftLog Storage { get; }

    /// <summary>The running node; null while crashed.</summary>
    public TestRaftNode? Node { get; set; }

    /// <summary>A Ready taken but not yet persisted.</summary>
    public Ready? Outstanding { get; set; }

    public SimStateMachine Machine { get; set; }

    /// <summary>Read context to the highest acknowledged write index when the read began.</summary>
    public Dictionary<long, long> PendingReads { get; } = new();

    public List<ReadState> ReadyReads { get; } = new();

    public long SeenCommit { get; set; }

    public (long Term, long LastIndex, long LastTerm)? LeaderSince { get; set; }

    /// <summary>Whether the node was quiesced when last checked (to count quiesce and wake events).</summary>
    public bool WasQuiesced { get; set; }
}
