using System.Collections;
using System.Text;

namespace Storage.Consistency;

/// <summary>An immutable list of operations on any number of keys, as recorded by clients.</summary>
public sealed class History : IReadOnlyList<OperationRecord>
{
    private readonly OperationRecord[] _records;

    public History(IEnumerable<OperationRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        _records = records.ToArray();
        var ids = new HashSet<int>();
        foreach (var r in _records)
        {
            ArgumentNullException.ThrowIfNull(r, nameof(records));
            if (!ids.Add(r.Id))
            {
                throw new ArgumentException($"operation id {r.Id} appears twice", nameof(records));
            }

            Validate(r);
        }
    }

    public int Count => _records.Length;

    public OperationRecord this[int index] => _records[index];

    /// <summary>The distinct keys, in first-appearance order.</summary>
    public IReadOnlyList<string> Keys => _records.Select(r => r.Key).Distinct(StringComparer.Ordinal).ToArray();

    public IEnumerator<OperationRecord> GetEnumerator() => ((IEnumerable<OperationRecord>)_records).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The same history with one operation swapped (matched by id) — for building variants in tests.</summary>
    public History Replace(OperationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        int index = Array.FindIndex(_records, r => r.Id == record.Id);
        if (index < 0)
        {
            throw new ArgumentException($"no operation with id {record.Id}", nameof(record));
        }

        var copy = (OperationRecord[])_records.Clone();
        copy[index] = record;
        return new History(copy);
    }

    /// <summary>One line per operation, ordered by invocation.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        foreach (var r in _records.OrderBy(r => r.InvokeTime).ThenBy(r => r.Id))
        {
            sb.AppendLine(r.ToString());
        }

        return sb.ToString();
    }

    public override string ToString() => $"History({Count} operations, {Keys.Count} keys)";

    private static void Validate(OperationRecord r)
    {
        ArgumentNullException.ThrowIfNull(r.Operation, nameof(r));
        if (r.CompleteTime is { } c && c < r.InvokeTime)
        {
            throw new ArgumentException($"operation #{r.Id} completes ({c}) before it is invoked ({r.InvokeTime})", nameof(r));
        }

        if (r.Outcome == OperationOutcome.Ok)
        {
            if (r.Result is null || !r.Operation.Accepts(r.Result))
            {
                throw new ArgumentException($"operation #{r.Id} {r.Operation} cannot complete with {r.Result?.ToString() ?? "no result"}", nameof(r));
            }

            if (r.CompleteTime is null)
            {
                throw new ArgumentException($"operation #{r.Id} is Ok but has no completion time", nameof(r));
            }
        }
        else if (r.Result is not null)
        {
            throw new ArgumentException($"operation #{r.Id} is {r.Outcome} but carries a result", nameof(r));
        }
    }
}
