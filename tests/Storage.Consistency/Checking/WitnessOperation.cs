namespace Storage.Consistency;

/// <summary>One operation of a <see cref="FailureWitness"/>.</summary>
/// <param name="AnswerIgnored">
/// True for a write still in flight when the failing operation completed: the witness only assumes it may
/// have taken effect by then (its later answer, if any, is not used).
/// </param>
public sealed record WitnessOperation(OperationRecord Record, bool AnswerIgnored)
{
    public override string ToString() => AnswerIgnored ? $"{Record}   [in flight at the failure: answer not used]" : Record.ToString();
}
