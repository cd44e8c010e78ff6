namespace Storage.StateMachine;

/// <summary>Removes <see cref="KvCommand.Key"/>; deleting a missing key succeeds with Existed = false.</summary>
public sealed record DeleteCommand : KvCommand
{
    public DeleteCommand(WriteId writeId, string key) : base(writeId, key) { }

    public override KvCommandKind Kind => KvCommandKind.Delete;
}
