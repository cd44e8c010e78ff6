namespace Storage.Consistency;

/// <summary>
/// For the search's dead-end check: every answered operation tolerates the key's version bound
/// (<see cref="RegisterState.Low"/>) only up to a limit — a write answered with version w needs Low &lt; w;
/// a read of version v, a CAS conflict reporting v, a CAS expecting v (v ≠ 0) need Low ≤ v. Low never
/// decreases when versions increase across deletes, so a step that pushes Low past the limit of some
/// answered operation still pending leads nowhere: that operation could never be linearized after it.
/// This is what makes the search follow the order the versions dictate instead of exploring every
/// interleaving of concurrent writes until a return blocks it.
/// </summary>
internal sealed class LowLimits
{
    private readonly long[] _limit;
    private readonly int[] _order;
    private readonly int[] _position;
    private readonly bool[] _linearized;
    private int _first;

    public LowLimits(IReadOnlyList<ModelOp> ops)
    {
        _limit = ops.Select(Limit).ToArray();
        _order = Enumerable.Range(0, ops.Count).Where(i => _limit[i] != long.MaxValue).OrderBy(i => _limit[i]).ToArray();
        _position = new int[ops.Count];
        for (int i = 0; i < _order.Length; i++)
        {
            _position[_order[i]] = i;
        }

        _linearized = new bool[ops.Count];
    }

    public void Mark(int op, bool linearized)
    {
        _linearized[op] = linearized;
        if (!linearized && _limit[op] != long.MaxValue && _position[op] < _first)
        {
            _first = _position[op];
        }
    }

    /// <summary>The smallest limit among pending operations other than <paramref name="except"/>.</summary>
    public long MinPendingExcept(int except)
    {
        while (_first < _order.Length && _linearized[_order[_first]])
        {
            _first++;
        }

        for (int i = _first; i < _order.Length; i++)
        {
            int op = _order[i];
            if (!_linearized[op] && op != except)
            {
                return _limit[op];
            }
        }

        return long.MaxValue;
    }

    private static long Limit(ModelOp op)
    {
        if (!op.Known)
        {
            return long.MaxValue;
        }

        switch (op.Kind)
        {
            case OperationKind.Get:
                return op.Found ? op.Version : long.MaxValue;
            case OperationKind.Put:
                return op.Version - 1;
            case OperationKind.Cas when op.ResultKind == ResultKind.Conflict:
                return op.Version != 0 ? op.Version : long.MaxValue;
            case OperationKind.Cas:
                return op.Expected != 0 ? Math.Min(op.Expected, op.Version - 1) : op.Version - 1;
            default:
                return long.MaxValue;
        }
    }
}
