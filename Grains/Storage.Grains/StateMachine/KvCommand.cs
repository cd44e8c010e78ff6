namespace Storage.StateMachine;

/// <summary>
/// One write proposed to a shard's Raft log and applied by <see cref="KvStateMachine"/>.
/// Commands are validated when constructed (non-null, well-formed Unicode key, non-null value, a usable
/// <see cref="Storage.WriteId"/>, a non-negative expected version) so that applying one never fails; size limits are checked before
/// proposing with <see cref="KeyValidator"/>, because limits are configuration and applying must not depend
/// on configuration.
/// </summary>
public abstract record KvCommand
{
    protected KvCommand(WriteId writeId, string key)
    {
        ArgumentNullException.ThrowIfNull(key);

        // A key that is not valid UTF-16 has no faithful UTF-8 form: it could be applied but never encoded
        // into the log or a snapshot, so refuse it here, before any replica can hold it.
        if (key.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') && !IsWellFormedUtf16(key))
        {
            throw new InvalidKeyException("key is not valid Unicode: it contains an unpaired surrogate");
        }

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

    private static bool IsWellFormedUtf16(string key)
    {
        for (int i = 0; i < key.Length; i++)
        {
            if (char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(key[i]))
            {
                return false;
            }
        }

        return true;
    }

    protected static long CheckExpectedVersion(long expectedVersion) =>
        expectedVersion >= 0
            ? expectedVersion
            : throw new InvalidRequestException($"expected version {expectedVersion} is negative (0 means 'must not exist')");
}
