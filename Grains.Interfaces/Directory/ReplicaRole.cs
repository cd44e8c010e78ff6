namespace Storage;

/// <summary>
/// A replica's part in its Raft group as the shard map records it. A learner receives the log but does not vote;
/// a replacement joins as one, catches up, and is then promoted.
/// </summary>
[GenerateSerializer, Alias("Storage.ReplicaRole")]
public enum ReplicaRole
{
    Voter = 0,
    Learner = 1,
}
