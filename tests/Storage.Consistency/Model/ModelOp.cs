namespace Storage.Consistency;

/// <summary>
/// One operation of a single key's history in the form the search needs: values interned to small ints,
/// the answer unpacked, and the return time at +infinity when the answer is unknown.
/// </summary>
internal sealed class ModelOp
{
    public const long Infinity = long.MaxValue;

    public required OperationRecord Record { get; init; }

    public required OperationKind Kind { get; init; }

    /// <summary>The interned input value of a Put or a CAS; -1 otherwise.</summary>
    public required int ValueId { get; init; }

    public required long Expected { get; init; }

    /// <summary>False when the answer is unknown: the operation may take effect (once) at any point after its invocation, or never.</summary>
    public required bool Known { get; init; }

    public ResultKind ResultKind { get; init; }

    public long Version { get; init; }

    public bool? Existed { get; init; }

    public bool Found { get; init; }

    /// <summary>The interned value a found read returned; -1 otherwise.</summary>
    public int ReadValueId { get; init; } = -1;

    public required long Invoke { get; init; }

    public required long Return { get; init; }

    /// <summary>
    /// Operations that never change the key, whatever the state: answered Gets and CAS conflicts. Dropping
    /// one from a history can only make it easier to linearize.
    /// </summary>
    public bool IsReadOnly => Known && (Kind == OperationKind.Get || ResultKind == ResultKind.Conflict);

    /// <summary>This write with its answer forgotten: a weaker history (every linearization of the original still fits).</summary>
    public ModelOp AsUnknown() => new()
    {
        Record = Record,
        Kind = Kind,
        ValueId = ValueId,
        Expected = Expected,
        Known = false,
        Invoke = Invoke,
        Return = Infinity,
    };
}
