namespace Storage.Consistency;

/// <summary>
/// What the store answered to an operation that completed Ok. Mirrors the store's <c>WriteResult</c>,
/// <c>GetResult</c> and <c>VersionConflictException</c>; create with the static factories.
/// </summary>
public sealed record OperationResult
{
    private OperationResult(ResultKind kind, long version, bool? existed, bool found, ValueBytes? value)
    {
        Kind = kind;
        Version = version;
        Existed = existed;
        Found = found;
        Value = value;
    }

    public ResultKind Kind { get; }

    /// <summary>Written: the new version. Conflict: the actual version. Read: the version read (0 if not found). Deleted: 0.</summary>
    public long Version { get; }

    /// <summary>Whether the key existed before the write; required for Deleted, optional (null = not checked) for Written.</summary>
    public bool? Existed { get; }

    /// <summary>Read only: whether the key was found.</summary>
    public bool Found { get; }

    /// <summary>Read only: the value read when found.</summary>
    public ValueBytes? Value { get; }

    /// <summary>A Put, or a CAS that applied. <paramref name="existed"/> null leaves the flag unchecked.</summary>
    public static OperationResult Written(long version, bool? existed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        return new OperationResult(ResultKind.Written, version, existed, false, null);
    }

    public static OperationResult Deleted(bool existed) => new(ResultKind.Deleted, 0, existed, false, null);

    /// <summary>A CAS that did not apply because the key's version was <paramref name="actualVersion"/> (0 = absent).</summary>
    public static OperationResult Conflict(long actualVersion)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(actualVersion);
        return new OperationResult(ResultKind.Conflict, actualVersion, null, false, null);
    }

    /// <summary>
    /// A Get's answer exactly as the store gave it. A not-found answer with a version other than 0 is kept
    /// as is (the checker rejects it) — recording must not hide what the store said.
    /// </summary>
    public static OperationResult Read(bool found, ValueBytes? value, long version)
    {
        if (found && value is null)
        {
            throw new ArgumentException("a found read needs a value", nameof(value));
        }

        return new OperationResult(ResultKind.Read, version, null, found, found ? value : null);
    }

    public static OperationResult Read(bool found, byte[]? value, long version) =>
        Read(found, value is null ? null : ValueBytes.FromBytes(value), version);

    public static OperationResult ReadValue(string value, long version) => Read(true, ValueBytes.FromString(value), version);

    public static OperationResult ReadMissing() => Read(false, (ValueBytes?)null, 0);

    public override string ToString() => Kind switch
    {
        ResultKind.Written => Existed is { } e ? $"ok v{Version} existed={Bool(e)}" : $"ok v{Version}",
        ResultKind.Deleted => $"deleted existed={Bool(Existed == true)}",
        ResultKind.Conflict => $"conflict actual=v{Version}",
        _ => Found ? $"found {Value} v{Version}" : Version == 0 ? "not found" : $"not found v{Version}",
    };

    private static string Bool(bool b) => b ? "true" : "false";
}
