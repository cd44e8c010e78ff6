namespace Storage.Consistency;

/// <summary>
/// Shrinks a non-linearizable key history to a small witness, soundly: every candidate is a weakening of
/// the original (anything linearizable before stays linearizable), so a candidate that still fails proves
/// the original fails.
/// <list type="number">
/// <item>Lost writes: if the history still fails with every unanswered write turned into a "havoc" write
/// (may take effect at any moment, any number of times — see <see cref="RegisterModel"/>), start from that:
/// it is a weakening, and far cheaper to search than lost writes taken one by one.</item>
/// <item>Shortest failing prefix: cut the history right after the k-th completion, for the smallest k that
/// fails (binary search — failing is monotone in k). Operations invoked after the cut go; those in flight
/// at the cut keep only their invocation (a write) or go (a read): that is exactly the history as it stood
/// at that moment.</item>
/// <item>Greedy weakening, in halving chunks (delta-debugging style) down to single operations: drop
/// reads; turn writes into havoc writes. A weakening is kept when the result still fails. Weakening only
/// adds linearizations, so after the final pass over single operations nothing more can be weakened.</item>
/// </list>
/// </summary>
internal sealed class Minimizer
{
    private readonly IReadOnlyList<ModelOp> _ops;
    private readonly bool _monotonicAcrossDeletes;
    private readonly SearchBudget _budget;
    private bool _budgetRanOut;

    private Minimizer(IReadOnlyList<ModelOp> ops, CheckerOptions options)
    {
        _ops = ops;
        _monotonicAcrossDeletes = options.VersionsIncreaseAcrossDeletes;
        _budget = new SearchBudget(options.MaxStepsPerKey, options.MinimizeTimeBudgetPerKey);
    }

    private enum Form
    {
        Full,
        Dropped,
        Havoc,
    }

    /// <summary>A witness for <paramref name="ops"/>, which the checker found not linearizable.</summary>
    public static FailureWitness Minimize(IReadOnlyList<ModelOp> ops, CheckerOptions options) => new Minimizer(ops, options).Run();

    /// <summary>
    /// The check with every unanswered write as a havoc write: a weakening of <paramref name="ops"/>, so
    /// Illegal here means Illegal for the original. Decides quickly where the exact search drowns in the
    /// ways lost writes could have interleaved.
    /// </summary>
    public static SearchOutcome CheckRelaxed(IReadOnlyList<ModelOp> ops, bool monotonicAcrossDeletes, SearchBudget budget)
    {
        var forms = ops.Select(o => o.Known ? Form.Full : Form.Havoc).ToArray();
        return Search(ops, forms, monotonicAcrossDeletes, budget);
    }

    private FailureWitness Run()
    {
        var completions = _ops.Where(o => o.Known).OrderBy(o => o.Return).ThenBy(o => o.Record.Id).ToArray();
        if (completions.Length == 0)
        {
            return Unminimized();
        }

        bool relaxLost = _ops.Any(o => !o.Known) && Fails(_ops, _ops.Select(o => o.Known ? Form.Full : Form.Havoc).ToArray());
        var (prefix, forms) = Prefix(completions, completions.Length, relaxLost);
        if (!Fails(prefix, forms))
        {
            // Cannot happen for a history the checker rejected, unless the budget ran out: report it whole.
            return Unminimized();
        }

        int lo = 1, hi = completions.Length;
        while (lo < hi && !_budgetRanOut)
        {
            int mid = lo + ((hi - lo) / 2);
            var (p, f) = Prefix(completions, mid, relaxLost);
            if (Fails(p, f))
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        var failing = completions[hi - 1];
        (prefix, forms) = Prefix(completions, hi, relaxLost);
        Shrink(prefix, forms);

        var kept = new List<WitnessOperation>();
        var havoc = new List<OperationRecord>();
        for (int i = 0; i < prefix.Count; i++)
        {
            if (forms[i] == Form.Full)
            {
                bool answerIgnored = !prefix[i].Known && prefix[i].Record.Outcome == OperationOutcome.Ok;
                kept.Add(new WitnessOperation(prefix[i].Record, answerIgnored));
            }
            else if (forms[i] == Form.Havoc)
            {
                havoc.Add(prefix[i].Record);
            }
        }

        return new FailureWitness(
            kept.OrderBy(o => o.Record.InvokeTime).ThenBy(o => o.Record.Id).ToArray(),
            havoc.OrderBy(r => r.InvokeTime).ThenBy(r => r.Id).ToArray(),
            failing.Record,
            prefix.Count,
            isMinimal: !_budgetRanOut);
    }

    private void Shrink(List<ModelOp> prefix, Form[] forms)
    {
        int n = prefix.Count;
        for (int chunk = Math.Max(1, n / 2); ; chunk = Math.Max(1, chunk / 2))
        {
            for (int start = 0; start < n && !_budgetRanOut; start += chunk)
            {
                var trial = (Form[])forms.Clone();
                bool changed = false;
                for (int i = start; i < Math.Min(n, start + chunk); i++)
                {
                    if (trial[i] == Form.Full)
                    {
                        trial[i] = prefix[i].IsReadOnly ? Form.Dropped : Form.Havoc;
                        changed = true;
                    }
                }

                if (changed && Fails(prefix, trial))
                {
                    Array.Copy(trial, forms, n);
                }
            }

            if (chunk == 1 || _budgetRanOut)
            {
                return;
            }
        }
    }

    /// <summary>The history as it stood right after the <paramref name="k"/>-th completion.</summary>
    private (List<ModelOp> Ops, Form[] Forms) Prefix(ModelOp[] completions, int k, bool relaxLost)
    {
        long cut = completions[k - 1].Return;
        var done = new HashSet<ModelOp>(completions.Take(k), ReferenceEqualityComparer.Instance);
        var prefix = new List<ModelOp>();
        var forms = new List<Form>();
        foreach (var op in _ops)
        {
            if (op.Invoke > cut)
            {
                continue;
            }

            if (done.Contains(op))
            {
                prefix.Add(op);
                forms.Add(Form.Full);
            }
            else if (op.Kind != OperationKind.Get && !op.IsReadOnly)
            {
                // In flight at the cut: it may have taken effect already; its answer came later, if at all.
                prefix.Add(op.Known ? op.AsUnknown() : op);
                forms.Add(relaxLost ? Form.Havoc : Form.Full);
            }
        }

        return (prefix, forms.ToArray());
    }

    private bool Fails(IReadOnlyList<ModelOp> ops, Form[] forms)
    {
        var outcome = Search(ops, forms, _monotonicAcrossDeletes, _budget);
        if (outcome == SearchOutcome.BudgetExceeded)
        {
            _budgetRanOut = true;
        }

        return outcome == SearchOutcome.Illegal;
    }

    private static SearchOutcome Search(IReadOnlyList<ModelOp> ops, Form[] forms, bool monotonicAcrossDeletes, SearchBudget budget)
    {
        var core = new List<ModelOp>(ops.Count);
        var havocValues = new List<int>();
        bool havocDelete = false;
        for (int i = 0; i < ops.Count; i++)
        {
            switch (forms[i])
            {
                case Form.Full:
                    core.Add(ops[i]);
                    break;
                case Form.Havoc when ops[i].Kind == OperationKind.Delete:
                    havocDelete = true;
                    break;
                case Form.Havoc:
                    // A CAS as havoc is a plain write of its value: more permissive than the CAS itself.
                    havocValues.Add(ops[i].ValueId);
                    break;
            }
        }

        return WglSearch.Run(core, new RegisterModel(core, monotonicAcrossDeletes, havocValues, havocDelete), budget);
    }

    private FailureWitness Unminimized() => new(
        _ops.Select(o => new WitnessOperation(o.Record, AnswerIgnored: false)).OrderBy(o => o.Record.InvokeTime).ToArray(),
        [],
        null,
        _ops.Count,
        isMinimal: false);
}
