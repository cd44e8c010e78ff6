namespace Storage.Consistency;

/// <summary>
/// What a client asked the store to do: the inputs of one operation on one key. Outputs are in
/// <see cref="OperationResult"/>. Create with the static factories.
/// </summary>
public sealed record Operation
{
    private Operation(OperationKind kind, string key, ValueBytes? value, long expectedVersion)
    {
        ArgumentNullException.ThrowIfNull(key);
        Kind = kind;
        Key = key;
        Value = value;
        ExpectedVersion = expectedVersion;
    }

    public OperationKind Kind { get; }

    public string Key { get; }

    /// <summary>The value written by a Put or a CAS; null for Delete and Get.</summary>
    public ValueBytes? Value { get; }

    /// <summary>The version a CAS expects (0 = the key must not exist); 0 for the other kinds.</summary>
    public long ExpectedVersion { get; }

    /// <summary>True for the kinds that can change the key (Put, Delete, Cas).</summary>
    public bool IsWrite => Kind != OperationKind.Get;

    public static Operation Put(string key, ValueBytes value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Operation(OperationKind.Put, key, value, 0);
    }

    public static Operation Put(string key, string value) => Put(key, ValueBytes.FromString(value));

    public static Operation Put(string key, byte[] value) => Put(key, ValueBytes.FromBytes(value));

    public static Operation Delete(string key) => new(OperationKind.Delete, key, null, 0);

    public static Operation Cas(string key, long expectedVersion, ValueBytes value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        return new Operation(OperationKind.Cas, key, value, expectedVersion);
    }

    public static Operation Cas(string key, long expectedVersion, string value) => Cas(key, expectedVersion, ValueBytes.FromString(value));

    public static Operation Cas(string key, long expectedVersion, byte[] value) => Cas(key, expectedVersion, ValueBytes.FromBytes(value));

    public static Operation Get(string key) => new(OperationKind.Get, key, null, 0);

    /// <summary>Whether <paramref name="result"/> is an answer this kind of operation can get.</summary>
    public bool Accepts(OperationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return (Kind, result.Kind) switch
        {
            (OperationKind.Put, ResultKind.Written) => true,
            (OperationKind.Cas, ResultKind.Written or ResultKind.Conflict) => true,
            (OperationKind.Delete, ResultKind.Deleted) => true,
            (OperationKind.Get, ResultKind.Read) => true,
            _ => false,
        };
    }

    public override string ToString() => Kind switch
    {
        OperationKind.Put => $"Put({Key}, {Value})",
        OperationKind.Delete => $"Delete({Key})",
        OperationKind.Cas => $"Cas({Key}, expect v{ExpectedVersion}, {Value})",
        _ => $"Get({Key})",
    };
}
