namespace Storage.StateMachine;

/// <summary>
/// Removes <see cref="KvCommand.Key"/> only if its current version is <see cref="ExpectedVersion"/>.
/// A missing key has version 0, so expected version 0 succeeds (as a no-op, Existed = false) exactly
/// when the key is absent: the same rule as <see cref="CompareAndSwapCommand"/>, no special case.
/// </summary>
public sealed record CompareAndDeleteCommand : KvCommand
{
    public CompareAndDeleteCommand(WriteId writeId, string key, long expectedVersion) : base(writeId, key)
    {
        ExpectedVersion = CheckExpectedVersion(expectedVersion);
    }

    public long ExpectedVersion { get; }

    public override KvCommandKind Kind => KvCommandKind.CompareAndDelete;
}
