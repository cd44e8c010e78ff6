namespace Storage.StateMachine;

/// <summary>
/// Sets <see cref="KvCommand.Key"/> to <see cref="Value"/> only if its current version is
/// <see cref="ExpectedVersion"/>; 0 means "the key must not exist" (create-if-absent).
/// </summary>
public sealed record CompareAndSwapCommand : KvCommand
{
    public CompareAndSwapCommand(WriteId writeId, string key, long expectedVersion, byte[] value) : base(writeId, key)
    {
        ArgumentNullException.ThrowIfNull(value);
        ExpectedVersion = CheckExpectedVersion(expectedVersion);
        Value = value;
    }

    public long ExpectedVersion { get; }

    /// <summary>The state machine keeps this array as the stored value: do not mutate it after proposing.</summary>
    public byte[] Value { get; }

    public override KvCommandKind Kind => KvCommandKind.CompareAndSwap;

    public bool Equals(CompareAndSwapCommand? other) =>
        other is not null && base.Equals(other) && ExpectedVersion == other.ExpectedVersion && Value.AsSpan().SequenceEqual(other.Value);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), ExpectedVersion, Value.Length);
}
