using Storage.Raft.Quorum;
using Xunit;

namespace Storage.Raft.Tests.Core;

/// <summary>The majority arithmetic every caller shares (etcd-raft's quorum tests, in small).</summary>
public sealed class MajorityConfigTests
{
    [Theory]
    [InlineData(new long[] { 5 }, 5)]
    [InlineData(new long[] { 5, 3 }, 3)] // two voters: both are needed
    [InlineData(new long[] { 5, 3, 1 }, 3)]
    [InlineData(new long[] { 1, 3, 5 }, 3)] // order of voters does not matter
    [InlineData(new long[] { 9, 9, 0, 0 }, 0)] // four voters: three are needed
    [InlineData(new long[] { 9, 8, 7, 0, 0 }, 7)]
    public void CommittedIndexIsWhatAMajorityAcknowledged(long[] acked, long expected)
    {
        var voters = Enumerable.Range(1, acked.Length).Select(i => (long)i).ToList();
        var config = new MajorityConfig(voters);
        Assert.Equal(expected, config.CommittedIndex(id => acked[id - 1]));
    }

    [Fact]
    public void NothingIsCommittedWithoutVoters()
    {
        Assert.Equal(0, new MajorityConfig(Array.Empty<long>()).CommittedIndex(_ => 7));
    }

    [Theory]
    [InlineData(3, "", VoteResult.Pending)]
    [InlineData(3, "1y", VoteResult.Pending)]
    [InlineData(3, "1y 2y", VoteResult.Won)]
    [InlineData(3, "1y 2n", VoteResult.Pending)]
    [InlineData(3, "1n 2n", VoteResult.Lost)]
    [InlineData(3, "1y 2n 3n", VoteResult.Lost)]
    [InlineData(4, "1y 2y", VoteResult.Pending)]
    [InlineData(4, "1y 2y 3y", VoteResult.Won)]
    [InlineData(4, "1n 2n", VoteResult.Lost)] // the two left cannot make three
    [InlineData(3, "1y 7y", VoteResult.Pending)] // 7 is not a voter
    internal void VoteResultCountsOnlyVoters(int voters, string votes, VoteResult expected)
    {
        var config = new MajorityConfig(Enumerable.Range(1, voters).Select(i => (long)i).ToList());
        var tally = votes.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(v => long.Parse(v[..^1]), v => v[^1] == 'y');
        Assert.Equal(expected, config.VoteResult(tally));
    }
}
