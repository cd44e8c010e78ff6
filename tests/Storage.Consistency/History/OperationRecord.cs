using System.Globalization;

namespace Storage.Consistency;

/// <summary>
/// One operation of a history: who ran it, what it asked, when it was invoked and completed (on the
/// history's clock — only the order of these times matters), how it ended and what it returned.
/// </summary>
/// <param name="Id">Unique within the history; used to point at operations in reports.</param>
/// <param name="Client">The client (process, thread, connection) that ran it; only for reports.</param>
/// <param name="InvokeTime">Taken before the request left the client.</param>
/// <param name="CompleteTime">
/// Taken after the answer arrived (Ok, Failed) or when the client gave up (Unknown); null when the
/// operation never completed. The checker ignores it for Unknown operations: they may take effect later.
/// </param>
/// <param name="Result">The answer for <see cref="OperationOutcome.Ok"/>; null otherwise.</param>
public sealed record OperationRecord(
    int Id,
    int Client,
    Operation Operation,
    long InvokeTime,
    long? CompleteTime,
    OperationOutcome Outcome,
    OperationResult? Result)
{
    /// <summary>Wall-clock time of the invocation since the recorder started, when recorded live.</summary>
    public TimeSpan? InvokeElapsed { get; init; }

    /// <summary>Wall-clock time of the completion since the recorder started, when recorded live.</summary>
    public TimeSpan? CompleteElapsed { get; init; }

    public string Key => Operation.Key;

    /// <summary>The outcome and answer as text: the result, "failed", "unknown" or "pending".</summary>
    public string DescribeOutcome() => Outcome switch
    {
        OperationOutcome.Ok => Result?.ToString() ?? "ok",
        OperationOutcome.Failed => "failed (not applied)",
        _ => CompleteTime is null ? "unknown (never completed)" : "unknown (no answer)",
    };

    /// <summary>One report line: id, client, invoke..complete, the operation and its outcome.</summary>
    public override string ToString()
    {
        string complete = CompleteTime?.ToString(CultureInfo.InvariantCulture) ?? "?";
        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"#{Id,-5} c{Client,-4} [{InvokeTime,6} .. {complete,6}]");
        if (InvokeElapsed is { } ie)
        {
            string ce = CompleteElapsed is { } c ? $"{c.TotalMilliseconds:F3}" : "?";
            line += string.Create(CultureInfo.InvariantCulture, $" ({ie.TotalMilliseconds:F3}..{ce} ms)");
        }

        return $"{line}  {Operation} -> {DescribeOutcome()}";
    }
}
