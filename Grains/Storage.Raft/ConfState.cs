namespace Storage.Raft;

/// <summary>A group's membership: voters (count toward quorums) and learners (replicated, never vote).</summary>
public sealed record ConfState(IReadOnlyList<long> Voters, IReadOnlyList<long> Learners)
{
    public static ConfState Empty { get; } = new(Array.Empty<long>(), Array.Empty<long>());

    public bool IsVoter(long id) => Voters.Contains(id);

    public bool IsLearner(long id) => Learners.Contains(id);

    public bool IsMember(long id) => IsVoter(id) || IsLearner(id);

    public IEnumerable<long> Members => Voters.Concat(Learners);

    public override string ToString() =>
        $"voters=[{string.Join(',', Voters)}] learners=[{string.Join(',', Learners)}]";

    public bool Equals(ConfState? other) =>
        other is not null && Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners);

    public override int GetHashCode() => HashCode.Combine(Voters.Count, Learners.Count);
}
