using Xunit;

namespace Storage.Raft.Tests.Core;

/// <summary>The membership is a function of the log: changes count when appended and vanish when truncated.</summary>
public sealed class MembershipHistoryTests
{
    private static readonly ConfState ThreeVoters = new(new long[] { 1, 2, 3 }, Array.Empty<long>());

    [Fact]
    public void AChangeTakesEffectWhenAppendedAndIsForgottenWhenTruncated()
    {
        var history = new MembershipHistory(ThreeVoters);
        Assert.False(history.Track(new Entry(1, 5, EntryType.Normal, Array.Empty<byte>())));
        Assert.True(history.Track(ChangeAt(6, ConfChangeType.AddLearner, 4)));
        Assert.True(history.Track(ChangeAt(8, ConfChangeType.AddVoter, 4)));

        Assert.Equal(new long[] { 1, 2, 3, 4 }, history.Current.Voters);
        Assert.Equal(8, history.LastChangeIndex);
        Assert.Equal(ThreeVoters, history.At(5));
        Assert.Equal(new long[] { 4 }, history.At(7).Learners);

        Assert.True(history.TruncateFrom(8));
        Assert.Equal(new long[] { 4 }, history.Current.Learners);
        Assert.False(history.TruncateFrom(7));
        Assert.True(history.TruncateFrom(6));
        Assert.Equal(ThreeVoters, history.Current);
        Assert.Equal(0, history.LastChangeIndex);
    }

    [Fact]
    public void ASnapshotReplacesTheHistory()
    {
        var history = new MembershipHistory(ThreeVoters);
        history.Track(ChangeAt(6, ConfChangeType.RemoveNode, 3));
        var two = new ConfState(new long[] { 1, 2 }, Array.Empty<long>());
        history.Restore(two);
        Assert.Equal(two, history.Current);
        Assert.Equal(two, history.At(1));
        Assert.Equal(0, history.LastChangeIndex);
    }

    private static Entry ChangeAt(long index, ConfChangeType type, long node) =>
        new(1, index, EntryType.ConfChange, new ConfChange(type, node).Encode());
}
