namespace Storage.Raft.Quorum;

/// <summary>The state of a vote among a configuration's voters.</summary>
internal enum VoteResult
{
    /// <summary>Neither a majority for nor against yet: some voters have not answered.</summary>
    Pending,

    /// <summary>A majority said yes.</summary>
    Won,

    /// <summary>A majority can no longer say yes.</summary>
    Lost,
}
