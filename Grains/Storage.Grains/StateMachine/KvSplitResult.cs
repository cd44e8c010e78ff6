namespace Storage.StateMachine;

/// <summary>The outcome of <see cref="KvStateMachine.ApplySplit"/>: for <see cref="KvSplitStatus.Split"/>, the new shard's state machine.</summary>
public sealed record KvSplitResult(KvSplitStatus Status, KvStateMachine? Child, string Reason)
{
    public static KvSplitResult Refused(string reason) => new(KvSplitStatus.Refused, null, reason);
}
