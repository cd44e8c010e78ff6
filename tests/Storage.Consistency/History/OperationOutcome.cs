namespace Storage.Consistency;

/// <summary>How an operation ended, as far as the client could tell.</summary>
public enum OperationOutcome
{
    /// <summary>The store answered; the result is known (a CAS version conflict is an Ok answer too).</summary>
    Ok,

    /// <summary>The store answered with an error that guarantees nothing was applied (invalid key, value too large, ...).</summary>
    Failed,

    /// <summary>
    /// No answer (timeout, connection lost, shard unavailable): the operation may have taken effect at any
    /// point after its invocation — even after the client gave up — or never.
    /// </summary>
    Unknown,
}
