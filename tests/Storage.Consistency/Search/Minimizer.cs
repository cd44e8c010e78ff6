namespace Storage.Consistency;

/// <summary>
/// Shrinks a non-linearizable key history to a small witness, soundly: every candidate is a weakening of
/// the original (anything linearizable before stays linearizable), so a candidate that still fails proves
/// the original fails.
/// <list type="number">
/// <item>Shortest failing prefix: cut the history right after the k-th completion, for the smallest k that
/// fails (binary search — failing is monotone in k). Operations invoked after the cut go; those in flight
/// at the cut keep only their invocation (a write) or go (a read): that is exactly the history as it stood
/// at that moment.</item>
/// <item>Greedy weakening, in halving chunks (delta-debugging style) down to single operations: drop
/// reads; turn writes into "havoc" writes that may take effect at any moment, any number of times. A
/// weakening is kept when the result still fails. Weakening only adds linearizations, so one final pass
/// over single operations leaves a witness from which nothing more can be weakened.</item>
/// </list>
/// Havoc writes are not searched as operations (that would be exponential in their number) but folded into
/// the model's state — see <see cref="RegisterModel"/>.
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

    /// <summary>A witness for <paramref name="ops"/>, which the full search found not linearizable.</summary>
    public static FailureWitness Minimize(IReadOnlyList<ModelOp> ops, CheckerOptions options) => new Minimizer(ops, options).Run();

    private FailureWitness Run()
    {
        var completions = _ops.Where(o => o.Known).OrderBy(o => o.Return).ThenBy(o => o.Record.Id).ToArray();
        if (completions.Length == 0 || !Fails(Prefix(completions, completions.Length), []))
        {
            // Cannot happen for a history the search rejected, unless the budget ran out: report it whole.
            return Unminimized();
        }

        int lo = 1, hi = completions.Length;
        while (lo < hi && !_budgetRanOut)
        {
            int mid = lo + ((hi - lo) / 2);
            if (Fails(Prefix(completions, mid), []))
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        var failing = completions[hi - 1];
        var prefix = Prefix(completions, hi);
        var forms = new Form[prefix.Count];
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
    private List<ModelOp> Prefix(ModelOp[] completions, int k)
    {
        long cut = completions[k - 1].Return;
        var done = new HashSet<ModelOp>(completions.Take(k), ReferenceEqualityComparer.Instance);
        var prefix = new List<ModelOp>();
        foreach (var op in _ops)
        {
            if (op.Invoke > cut)
            {
                continue;
            }

            if (done.Contains(op))
            {
                prefix.Add(op);
            }
            else if (op.Kind != OperationKind.Get && !op.IsReadOnly)
            {
                // In flight at the cut: it may have taken effect already; its answer came later, if at all.
                prefix.Add(op.Known ? op.AsUnknown() : op);
            }
        }

        return prefix;
    }

    private bool Fails(List<ModelOp> prefix, Form[] forms)
    {
        var core = new List<ModelOp>(prefix.Count);
        var havocValues = new List<int>();
        bool havocDelete = false;
        for (int i = 0; i < prefix.Count; i++)
        {
            var form = i < forms.Length ? forms[i] : Form.Full;
            switch (form)
            {
                case Form.Full:
                    core.Add(prefix[i]);
                    break;
                case Form.Havoc when prefix[i].Kind == OperationKind.Delete:
                    havocDelete = true;
                    break;
                case Form.Havoc:
                    // A CAS as havoc is a plain write of its value: more permissive than the CAS itself.
                    havocValues.Add(prefix[i].ValueId);
                    break;
            }
        }

        var outcome = WglSearch.Run(core, new RegisterModel(_monotonicAcrossDeletes, havocValues, havocDelete), _budget);
        if (outcome == SearchOutcome.BudgetExceeded)
        {
            _budgetRanOut = true;
        }

        return outcome == SearchOutcome.Illegal;
    }

    private FailureWitness Unminimized() => new(
        _ops.Select(o => new WitnessOperation(o.Record, AnswerIgnored: false)).OrderBy(o => o.Record.InvokeTime).ToArray(),
        [],
        null,
        _ops.Count,
        isMinimal: false);
}
