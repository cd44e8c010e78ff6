namespace Storage.StateMachine;

/// <summary>Sets <see cref="KvCommand.Key"/> to <see cref="Value"/> unconditionally.</summary>
public sealed record PutCommand : KvCommand
{
    public PutCommand(WriteId writeId, string key, byte[] value) : base(writeId, key)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value;
    }

    /// <summary>The state machine keeps this array as the stored value: do not mutate it after proposing.</summary>
    public byte[] Value { get; }

    public override KvCommandKind Kind => KvCommandKind.Put;

    // Value equality on the bytes (records compare arrays by reference).
    public bool Equals(PutCommand? other) => other is not null && base.Equals(other) && Value.AsSpan().SequenceEqual(other.Value);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Value.Length);
}
