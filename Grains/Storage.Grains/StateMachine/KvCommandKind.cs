namespace Storage.StateMachine;

/// <summary>The kinds of command; the numeric values are the codec's tags and are persisted in logs: never renumber.</summary>
public enum KvCommandKind : byte
{
    Put = 1,
    Delete = 2,
    CompareAndSwap = 3,
    CompareAndDelete = 4,

    /// <summary>A shard split (<see cref="SplitCommand"/>): not a client write, proposed by the directory only.</summary>
    Split = 5,
}
