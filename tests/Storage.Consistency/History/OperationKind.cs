namespace Storage.Consistency;

/// <summary>The store operations a history can contain (the per-key subset of <c>IStore</c>).</summary>
public enum OperationKind
{
    Put,
    Delete,
    Cas,
    Get,
}
