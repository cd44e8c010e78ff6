namespace Storage.Raft;

/// <summary>The state a node must persist before it answers: current term, vote in that term, commit index.</summary>
public readonly record struct HardState(long Term, long Vote, long Commit)
{
    public static HardState Empty => default;

    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}
