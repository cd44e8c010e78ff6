namespace Storage.Raft;

/// <summary>What an entry carries: application data or a membership change (see <see cref="ConfChange"/>).</summary>
public enum EntryType : byte
{
    Normal = 0,
    ConfChange = 1,
}

/// <summary>One log entry. An empty <see cref="Normal"/> entry is the no-op a new leader appends.</summary>
public sealed record Entry(long Term, long Index, EntryType Type, byte[] Data)
{
    /// <summary>Approximate wire/disk size, used for batching limits.</summary>
    public int Size => Data.Length + 24;
}
