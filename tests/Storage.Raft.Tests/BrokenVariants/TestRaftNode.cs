namespace Storage.Raft.Tests.BrokenVariants;

/// <summary>
/// The node as the tests drive it: the shipped rules, except those <see cref="Faults"/> breaks on purpose (to prove
/// that the tests catch each violation), and a view of its log's terms for the simulator's invariant checks. With
/// <see cref="RaftFaults.None"/> every rule is the base class's.
/// </summary>
internal sealed class TestRaftNode : RaftNode
{
    public TestRaftNode(RaftConfig config, IRaftLog storage, Random random, RaftFaults faults = RaftFaults.None)
        : base(config, storage, random)
    {
        Faults = faults;
    }

    public RaftFaults Faults { get; }

    /// <summary>Term at an index of this node's log (persisted or not), 0 if compacted or absent.</summary>
    public long LogTermAt(long index) => TermAt(index);

    private protected override bool MayVoteFor(Message request) =>
        Has(RaftFaults.DoubleVote) || base.MayVoteFor(request);

    private protected override bool MayCommitByCount(long index) =>
        Has(RaftFaults.CommitOldTermByCount) || base.MayCommitByCount(index);

    private protected override bool MustWaitForPersistence(Message m) =>
        !(Has(RaftFaults.AckBeforePersist) && m.Type == MessageType.AppResp) && base.MustWaitForPersistence(m);

    private protected override bool MayKeepLeaseWhenQuiescing() =>
        Has(RaftFaults.KeepLeaseWhenQuiesced) || base.MayKeepLeaseWhenQuiescing();

    private bool Has(RaftFaults fault) => (Faults & fault) != 0;
}
