namespace Storage.StateMachine;

/// <summary>
/// One write proposed to a shard's Raft log and applied by <see cref="KvStateMachine"/>.
/// Commands are validated when constructed (non-null key and value, a usable <see cref="Storage.WriteId"/>,
/// a non-negative expected version) so that applying one never fails; size limits are checked before
/// proposing with <see cref="KeyValidator"/>, because limits are configuration and applying must not depend
/// on configuration.
/// </summary>
public abstract record KvCommand
{
    protected KvCommand(WriteId writeId, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (writeId.ClientId == Guid.Empty)
        {
            throw new InvalidRequestException("write id has an empty client id");
        }

        // Sequence 0 is reserved for "no write yet" in the exactly-once table.
        if (writeId.Sequence < 1)
        {
            throw new InvalidRequestException($"write id sequence {writeId.Sequence} is not positive");
        }

        WriteId = writeId;
        Key = key;
    }

    public WriteId WriteId { get; }

    public string Key { get; }

    public abstract KvCommandKind Kind { get; }

    protected static long CheckExpectedVersion(long expectedVersion) =>
        expectedVersion >= 0
            ? expectedVersion
            : throw new InvalidRequestException($"expected version {expectedVersion} is negative (0 means 'must not exist')");
}
