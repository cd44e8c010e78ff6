namespace Storage.Raft;

/// <summary>Where a snapshot stands in the log and the membership as of that point.</summary>
public sealed record SnapshotMetadata(long Index, long Term, ConfState ConfState);

/// <summary>A state-machine image as of <see cref="SnapshotMetadata.Index"/>; the log below it may be gone.</summary>
public sealed record Snapshot(SnapshotMetadata Metadata, byte[] Data)
{
    public long Index => Metadata.Index;

    public long Term => Metadata.Term;

    /// <summary>The empty snapshot a brand-new group starts from: index 0 with the initial membership.</summary>
    public static Snapshot Initial(ConfState conf) => new(new SnapshotMetadata(0, 0, conf), Array.Empty<byte>());
}
