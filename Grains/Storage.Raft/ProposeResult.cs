namespace Storage.Raft;

public enum ProposeOutcome : byte
{
    /// <summary>Appended at (Index, Term). It is applied if and only if the entry applied at Index has this Term.</summary>
    Accepted = 0,

    /// <summary>This node is not the leader; <see cref="ProposeResult.Leader"/> is the known leader (0 if none).</summary>
    NotLeader = 1,

    /// <summary>A leadership transfer is under way; retry shortly (at the new leader).</summary>
    TransferInProgress = 2,

    /// <summary>Another membership change is not yet committed, or the change is invalid.</summary>
    ConfChangeRejected = 3,
}

public readonly record struct ProposeResult(ProposeOutcome Outcome, long Index, long Term, long Leader, string? Reason = null)
{
    public bool IsAccepted => Outcome == ProposeOutcome.Accepted;

    internal static ProposeResult NotLeader(long leader) => new(ProposeOutcome.NotLeader, 0, 0, leader);
}
