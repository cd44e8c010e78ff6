namespace Storage.Consistency;

/// <summary>The shape of an <see cref="OperationResult"/>.</summary>
public enum ResultKind
{
    /// <summary>A Put or a successful CAS: the new version (and whether the key existed before).</summary>
    Written,

    /// <summary>A Delete: whether the key existed before.</summary>
    Deleted,

    /// <summary>A CAS that found another version: the actual version (0 = the key did not exist).</summary>
    Conflict,

    /// <summary>A Get: found, value and version.</summary>
    Read,
}
