namespace Storage.Directory;

/// <summary>What a membership change does next (see <see cref="MembershipChangeSteps.Next"/>).</summary>
public enum MembershipStepKind
{
    /// <summary>Nothing to do on this pass (no leader found, the learner still catching up); <see cref="MembershipStep.Reason"/> says why.</summary>
    Wait,

    /// <summary>Ask the leader to add <see cref="MembershipStep.Replica"/> as a learner.</summary>
    AddLearner,

    /// <summary>Persist <see cref="MembershipStep.Index"/> (the leader's commit index) as the learner's catch-up target.</summary>
    RecordCatchUp,

    /// <summary>Ask the leader to make the caught-up learner <see cref="MembershipStep.Replica"/> a voter.</summary>
    Promote,

    /// <summary>The leader is the replica leaving: hand leadership to voter <see cref="MembershipStep.Replica"/> first.</summary>
    TransferLeadership,

    /// <summary>Ask the leader to remove <see cref="MembershipStep.Replica"/> from the group.</summary>
    Remove,

    /// <summary>Persist <see cref="MembershipStep.Map"/> (the map catching up with the group's committed membership).</summary>
    UpdateMap,

    /// <summary>Retire <see cref="MembershipStep.Replica"/> (removed from the group and the map: its durable state goes), then finish.</summary>
    Retire,

    /// <summary>The change is complete (or can no longer apply): forget it.</summary>
    Finish,
}

/// <summary>One decision of <see cref="MembershipChangeSteps.Next"/>.</summary>
public sealed record MembershipStep(MembershipStepKind Kind, long Replica = 0, long Index = 0, ShardMap? Map = null, string Reason = "")
{
    public override string ToString() => Kind switch
    {
        MembershipStepKind.Wait or MembershipStepKind.Finish => $"{Kind} ({Reason})",
        MembershipStepKind.UpdateMap => $"{Kind} to version {Map?.Version}",
        MembershipStepKind.RecordCatchUp => $"{Kind} {Index}",
        _ => $"{Kind} {Replica}",
    };
}
