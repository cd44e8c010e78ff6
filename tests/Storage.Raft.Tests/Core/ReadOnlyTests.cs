using Xunit;

namespace Storage.Raft.Tests.Core;

/// <summary>The books of ReadIndex: reads join the next round and are released, in order, once it is confirmed.</summary>
public sealed class ReadOnlyTests
{
    [Fact]
    public void ReadsJoinTheNextRoundAndAreReleasedWhenItIsConfirmed()
    {
        var reads = new ReadOnly(ReadOnlyOption.Safe, leaseTicks: 8);
        reads.Add(from: 1, context: 10, index: 5);
        Assert.True(reads.TakeRoundRequest());
        Assert.True(reads.NeedsRound);

        var round = reads.StartRound(tick: 100);
        reads.Add(from: 2, context: 11, index: 6); // a round is in flight: waits for the next one
        Assert.False(reads.RoundRequested);
        Assert.False(reads.NeedsRound);

        Assert.True(reads.TryConfirm(round, term: 1, out var released));
        Assert.Equal(new[] { (1L, 10L, 5L) }, released.Select(r => (r.From, r.Context, r.Index)));
        Assert.True(reads.NeedsRound);
        Assert.False(reads.TryConfirm(round, term: 1, out _)); // no news

        var next = reads.StartRound(tick: 101);
        Assert.True(reads.TryConfirm(next, term: 1, out released));
        Assert.Equal(11, released.Single().Context);
        Assert.False(reads.HoldsLease(101)); // Safe: rounds never make a lease
    }

    [Fact]
    public void AConfirmedRoundExtendsTheLeaseFromItsStartUnlessLeasesAreOffInTheTerm()
    {
        var reads = new ReadOnly(ReadOnlyOption.LeaseBased, leaseTicks: 8);
        Assert.True(reads.TryConfirm(reads.StartRound(tick: 100), term: 3, out _));
        Assert.True(reads.HoldsLease(107));
        Assert.False(reads.HoldsLease(108));

        reads.ForbidLease(term: 3);
        Assert.False(reads.HoldsLease(100));
        Assert.True(reads.TryConfirm(reads.StartRound(tick: 101), term: 3, out _));
        Assert.False(reads.HoldsLease(101));
    }

    [Fact]
    public void AcknowledgementsOnlyMoveForward()
    {
        var reads = new ReadOnly(ReadOnlyOption.Safe, leaseTicks: 8);
        Assert.True(reads.RecordAck(2, 3));
        Assert.False(reads.RecordAck(2, 2));
        Assert.Equal(3, reads.AckedRound(2));
        reads.Forget(2);
        Assert.Equal(0, reads.AckedRound(2));
    }
}
