namespace Storage.Consistency.Tests;

/// <summary>
/// A deliberately naive, independent restatement of the specification for one key: tries every order of
/// the operations that respects real time, lets each lost write take effect at any point after its
/// invocation or never, and picks the version a lost write got from every value that could matter (each
/// version mentioned in the history that no answered write got, or the smallest unmentioned one). No
/// memo, no pruning, no abstraction of unknown versions — exponential, for tiny histories only.
/// </summary>
internal static class ReferenceChecker
{
    /// <param name="havoc">
    /// Writes that may take effect at any time, any number of times (as the checker's witnesses assume for
    /// the writes they leave out; a CAS counts as a write of its value). At most <paramref name="maxHavoc"/>
    /// such effects are tried per order — fewer than the checker allows, so "not linearizable" from the
    /// checker must be "not linearizable" here too.
    /// </param>
    public static bool IsLinearizable(History history, bool versionsIncreaseAcrossDeletes = true, IReadOnlyList<OperationRecord>? havoc = null, int maxHavoc = 3)
    {
        var ops = history
            .Where(r => r.Outcome == OperationOutcome.Ok || (r.Outcome == OperationOutcome.Unknown && r.Operation.IsWrite))
            .ToList();
        var taken = ops.Where(r => r.Outcome == OperationOutcome.Ok && r.Result!.Kind == ResultKind.Written)
            .Select(r => r.Result!.Version).ToHashSet();
        var mentioned = ops.Where(r => r.Result is not null).Select(r => r.Result!.Version)
            .Concat(ops.Select(r => r.Operation.ExpectedVersion))
            .ToHashSet();
        var ctx = new Context(ops, taken, mentioned, versionsIncreaseAcrossDeletes, havoc ?? []);
        return Search(ctx, new bool[ops.Count], new State(false, null, 0, 0), maxHavoc);
    }

    private static bool Search(Context ctx, bool[] done, State state, int havocLeft)
    {
        if (ctx.Ops.Select((r, i) => (r, i)).All(x => done[x.i] || x.r.Outcome == OperationOutcome.Unknown))
        {
            return true;
        }

        if (havocLeft > 0)
        {
            foreach (var h in ctx.Havoc)
            {
                var effects = h.Operation.Kind == OperationKind.Delete
                    ? [Deleted(ctx, state)]
                    : FreshVersions(ctx, state).Select(v => new State(true, h.Operation.Value, v, v)).ToList();
                foreach (var next in effects)
                {
                    if (Search(ctx, done, next, havocLeft - 1))
                    {
                        return true;
                    }
                }
            }
        }

        for (int i = 0; i < ctx.Ops.Count; i++)
        {
            if (done[i] || !MayGoNext(ctx, done, i))
            {
                continue;
            }

            done[i] = true;
            foreach (var next in Apply(ctx, ctx.Ops[i], state))
            {
                if (Search(ctx, done, next, havocLeft))
                {
                    return true;
                }
            }

            done[i] = false;
        }

        return false;
    }

    // Nothing still pending completed before this one was invoked (equal times count as concurrent).
    private static bool MayGoNext(Context ctx, bool[] done, int i)
    {
        for (int j = 0; j < ctx.Ops.Count; j++)
        {
            var other = ctx.Ops[j];
            if (!done[j] && j != i && other.Outcome == OperationOutcome.Ok && other.CompleteTime < ctx.Ops[i].InvokeTime)
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<State> Apply(Context ctx, OperationRecord r, State s)
    {
        var op = r.Operation;
        var res = r.Result;
        if (r.Outcome == OperationOutcome.Unknown)
        {
            switch (op.Kind)
            {
                case OperationKind.Put:
                    foreach (long v in FreshVersions(ctx, s))
                    {
                        yield return new State(true, op.Value, v, v);
                    }

                    break;
                case OperationKind.Delete:
                    yield return Deleted(ctx, s);
                    break;
                default:
                    if (s.Version == op.ExpectedVersion)
                    {
                        foreach (long v in FreshVersions(ctx, s))
                        {
                            yield return new State(true, op.Value, v, v);
                        }
                    }
                    else
                    {
                        yield return s;
                    }

                    break;
            }

            yield break;
        }

        switch (op.Kind)
        {
            case OperationKind.Get:
                bool fits = res!.Found
                    ? s.Exists && s.Value == res.Value && s.Version == res.Version
                    : !s.Exists && res.Version == 0;
                if (fits)
                {
                    yield return s;
                }

                break;
            case OperationKind.Put:
                if (res!.Version > s.MaxAssigned && (res.Existed is null || res.Existed == s.Exists))
                {
                    yield return new State(true, op.Value, res.Version, res.Version);
                }

                break;
            case OperationKind.Delete:
                if (res!.Existed == s.Exists)
                {
                    yield return Deleted(ctx, s);
                }

                break;
            default:
                if (res!.Kind == ResultKind.Conflict)
                {
                    if (res.Version == s.Version && res.Version != op.ExpectedVersion)
                    {
                        yield return s;
                    }
                }
                else if (s.Version == op.ExpectedVersion && res.Version > s.MaxAssigned && (res.Existed is null || res.Existed == s.Exists))
                {
                    yield return new State(true, op.Value, res.Version, res.Version);
                }

                break;
        }
    }

    private static State Deleted(Context ctx, State s) => new(false, null, 0, ctx.VersionsIncreaseAcrossDeletes ? s.MaxAssigned : 0);

    // The versions a lost write could have got that make any difference: mentioned ones nobody answered
    // with, and the smallest one never mentioned (larger unmentioned ones only constrain later writes more).
    private static IEnumerable<long> FreshVersions(Context ctx, State s)
    {
        foreach (long v in ctx.Mentioned.Where(v => v > s.MaxAssigned && !ctx.Taken.Contains(v)).Order())
        {
            yield return v;
        }

        long fresh = s.MaxAssigned + 1;
        while (ctx.Mentioned.Contains(fresh))
        {
            fresh++;
        }

        yield return fresh;
    }

    private sealed record Context(List<OperationRecord> Ops, HashSet<long> Taken, HashSet<long> Mentioned, bool VersionsIncreaseAcrossDeletes, IReadOnlyList<OperationRecord> Havoc);

    private sealed record State(bool Exists, ValueBytes? Value, long Version, long MaxAssigned);
}
