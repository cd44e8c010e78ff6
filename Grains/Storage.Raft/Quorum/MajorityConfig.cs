using static Storage.Raft.Quorum.VoteResult;

namespace Storage.Raft.Quorum;

/// <summary>
/// A set of voters that decides by simple majority (etcd-raft's <c>quorum.MajorityConfig</c>). The one place
/// majority arithmetic is written: commit, read rounds and leases, elections and CheckQuorum all ask it.
/// </summary>
internal readonly struct MajorityConfig
{
    private readonly IReadOnlyList<long> _voters;

    public MajorityConfig(IReadOnlyList<long> voters) => _voters = voters;

    public int Count => _voters?.Count ?? 0;

    /// <summary>How many voters make a majority.</summary>
    public int Quorum => Count / 2 + 1;

    /// <summary>
    /// The largest value a majority of voters has acknowledged (at or above), given each voter's
    /// acknowledged value: the commit index for match indexes, the confirmed round for read-round acks.
    /// 0 for an empty configuration: nobody can acknowledge anything.
    /// </summary>
    public long CommittedIndex(Func<long, long> acked)
    {
        if (Count == 0)
        {
            return 0;
        }

        // Called on every append acknowledgement: small groups sort on the stack.
        Span<long> values = Count <= 16 ? stackalloc long[Count] : new long[Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = acked(_voters[i]);
        }

        values.Sort();
        return values[Count - Quorum];
    }

    /// <summary>
    /// Tallies <paramref name="votes"/> (yes or no by voter id; ids that are not voters are ignored):
    /// won with a majority of yes, lost once the missing voters could no longer make one, pending otherwise.
    /// </summary>
    public VoteResult VoteResult(IReadOnlyDictionary<long, bool> votes)
    {
        var yes = 0;
        var missing = 0;
        for (var i = 0; i < Count; i++)
        {
            if (!votes.TryGetValue(_voters[i], out var granted))
            {
                missing++;
            }
            else if (granted)
            {
                yes++;
            }
        }

        if (yes >= Quorum)
        {
            return Won;
        }

        return yes + missing >= Quorum ? Pending : Lost;
    }

    public override string ToString() => $"({string.Join(' ', _voters ?? Array.Empty<long>())})";
}
