namespace Storage.Consistency;

/// <summary>
/// One key's operations turned into <see cref="ModelOp"/>s. Failed operations are left out (they were
/// not applied) and so are unanswered reads (a read changes nothing, and without an answer it observes
/// nothing); an unanswered write keeps its invocation and gets its return at +infinity.
/// </summary>
internal sealed class KeyHistory
{
    private KeyHistory(string key, int operationCount, IReadOnlyList<ModelOp> ops)
    {
        Key = key;
        OperationCount = operationCount;
        Ops = ops;
    }

    public string Key { get; }

    public int OperationCount { get; }

    public IReadOnlyList<ModelOp> Ops { get; }

    /// <summary>Splits a history by key (P-compositionality: a history is linearizable iff every key's is).</summary>
    public static IReadOnlyList<KeyHistory> Split(History history)
    {
        var result = new List<KeyHistory>();
        foreach (var group in history.GroupBy(r => r.Key, StringComparer.Ordinal))
        {
            var records = group.ToArray();
            var values = new Dictionary<ValueBytes, int>();
            var ops = new List<ModelOp>(records.Length);
            foreach (var r in records)
            {
                if (ToModelOp(r, values) is { } op)
                {
                    ops.Add(op);
                }
            }

            result.Add(new KeyHistory(group.Key, records.Length, ops));
        }

        return result;
    }

    private static ModelOp? ToModelOp(OperationRecord r, Dictionary<ValueBytes, int> values)
    {
        var op = r.Operation;
        if (r.Outcome == OperationOutcome.Failed || (r.Outcome == OperationOutcome.Unknown && !op.IsWrite))
        {
            return null;
        }

        int valueId = op.Value is null ? -1 : Intern(op.Value, values);
        if (r.Outcome == OperationOutcome.Unknown)
        {
            return new ModelOp
            {
                Record = r,
                Kind = op.Kind,
                ValueId = valueId,
                Expected = op.ExpectedVersion,
                Known = false,
                Invoke = r.InvokeTime,
                Return = ModelOp.Infinity,
            };
        }

        var result = r.Result!;
        return new ModelOp
        {
            Record = r,
            Kind = op.Kind,
            ValueId = valueId,
            Expected = op.ExpectedVersion,
            Known = true,
            ResultKind = result.Kind,
            Version = result.Version,
            Existed = result.Existed,
            Found = result.Found,
            ReadValueId = result.Value is null ? -1 : Intern(result.Value, values),
            Invoke = r.InvokeTime,
            Return = r.CompleteTime!.Value,
        };
    }

    private static int Intern(ValueBytes value, Dictionary<ValueBytes, int> values)
    {
        if (!values.TryGetValue(value, out int id))
        {
            id = values.Count;
            values.Add(value, id);
        }

        return id;
    }
}
