namespace Storage.Raft;

/// <summary>An internal invariant broke (e.g. a committed entry would be overwritten). The node must not continue.</summary>
public sealed class RaftSafetyException : Exception
{
    public RaftSafetyException(string message) : base(message) { }
}
