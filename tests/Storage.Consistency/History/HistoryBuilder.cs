namespace Storage.Consistency;

/// <summary>
/// Builds a history by hand with explicit times — for tests and for importing histories recorded elsewhere.
/// Equal times are allowed; the checker treats an invocation and a completion at the same time as concurrent.
/// </summary>
public sealed class HistoryBuilder
{
    private readonly List<OperationRecord> _records = [];

    /// <summary>The id the next added operation gets (ids count from 0 in order of addition).</summary>
    public int NextId => _records.Count;

    public HistoryBuilder Ok(int client, Operation operation, long invoke, long complete, OperationResult result) =>
        Add(client, operation, invoke, complete, OperationOutcome.Ok, result);

    public HistoryBuilder Failed(int client, Operation operation, long invoke, long complete) =>
        Add(client, operation, invoke, complete, OperationOutcome.Failed, null);

    /// <summary>An operation without an answer; <paramref name="gaveUp"/> is when the client stopped waiting, if it did.</summary>
    public HistoryBuilder Unknown(int client, Operation operation, long invoke, long? gaveUp = null) =>
        Add(client, operation, invoke, gaveUp, OperationOutcome.Unknown, null);

    public History Build() => new(_records);

    private HistoryBuilder Add(int client, Operation operation, long invoke, long? complete, OperationOutcome outcome, OperationResult? result)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var record = new OperationRecord(_records.Count, client, operation, invoke, complete, outcome, result);
        // Validate eagerly so a mistake points at the line that made it.
        _ = new History([record]);
        _records.Add(record);
        return this;
    }
}
