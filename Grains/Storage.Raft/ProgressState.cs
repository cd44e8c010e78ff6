namespace Storage.Raft;

/// <summary>How the leader replicates to one follower (etcd-raft's <c>StateType</c>).</summary>
public enum ProgressState : byte
{
    /// <summary>Finding the match point: one append at a time.</summary>
    Probe = 0,

    /// <summary>Streaming appends optimistically within the in-flight window.</summary>
    Replicate = 1,

    /// <summary>Waiting for the follower to install a snapshot.</summary>
    Snapshot = 2,
}
