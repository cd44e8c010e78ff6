namespace Storage.Consistency;

/// <summary>
/// The sequential specification of one key: a versioned register with Put, Delete, CAS and Get, where the
/// store — not the client — picks versions, and picks them increasing. Judges whether an operation with
/// its answer can happen in a state, and what states follow.
/// <para>Exactness about versions: a write answered with version w fits only if w exceeds every version
/// this key had before (<see cref="RegisterState.Low"/>); a Get must return exactly the current value and
/// version; a CAS applies exactly when the current version equals the expected one. A write whose answer
/// was lost leaves the version unknown (≥ a bound) until a later Get or CAS conflict reveals it — and it
/// cannot be a version some answered write of this history got: versions are log indexes, one write each.
/// (Without that rule a lost write could pose as any other write for every CAS and read that only looks
/// at versions, and a failing search would have to rule out each such impostor.)</para>
/// <para>Optionally a "havoc" set: writes assumed to be able to take effect at any moment, any number of
/// times (each as a write of its value with some fresh version, or a delete). The minimizer uses it to
/// stand in for the operations it leaves out of a witness — a coarser, more permissive, cheaply searched
/// over-approximation of those writes, so a witness rejected with it proves the full history wrong.</para>
/// <para>Values that no Get in the searched operations returns are indistinguishable to the model, so
/// they all become one "unread" value: fewer distinct states, more memo hits, exactly the same verdicts.</para>
/// Not thread-safe (a scratch list is reused); one instance per search.
/// </summary>
internal sealed class RegisterModel
{
    private readonly bool _monotonicAcrossDeletes;
    private readonly HashSet<int> _havocValues;
    private readonly bool _havocDelete;
    private readonly HashSet<long> _takenVersions;
    private readonly HashSet<int> _readValues;
    private readonly List<RegisterState> _scratch = [];
    private readonly List<RegisterState> _closure = [];

    /// <param name="ops">The operations to be searched: the versions their answered writes got are taken.</param>
    public RegisterModel(IEnumerable<ModelOp> ops, bool monotonicAcrossDeletes, IReadOnlyCollection<int>? havocValues = null, bool havocDelete = false)
    {
        var list = ops as IReadOnlyCollection<ModelOp> ?? ops.ToArray();
        _takenVersions = list.Where(o => o.Known && o.ResultKind == ResultKind.Written).Select(o => o.Version).ToHashSet();
        _readValues = list.Where(o => o.Known && o.Found).Select(o => o.ReadValueId).ToHashSet();
        _monotonicAcrossDeletes = monotonicAcrossDeletes;
        _havocValues = havocValues?.Select(Canonical).ToHashSet() ?? [];
        _havocDelete = havocDelete;
        Initial = Close(ModelState.Of(RegisterState.Initial));
    }

    /// <summary>Whether a state's version bound can only grow from step to step (it drops to 0 on a delete otherwise).</summary>
    public bool LowNeverDecreases => _monotonicAcrossDeletes;

    /// <summary>Every key starts absent, version 0.</summary>
    public ModelState Initial { get; }

    private bool HasHavoc => _havocValues.Count > 0 || _havocDelete;

    /// <summary>The states after <paramref name="op"/> takes effect in <paramref name="state"/>; null if it cannot.</summary>
    public ModelState? Step(ModelState state, ModelOp op)
    {
        var states = state.States;
        if (states.Length == 1 && !HasHavoc)
        {
            // The common case: one concrete state, no havoc — avoid the list shuffling.
            _scratch.Clear();
            StepOne(states[0], op, _scratch);
            return _scratch.Count switch
            {
                0 => null,
                1 => _scratch[0] == states[0] ? state : ModelState.Of(_scratch[0]),
                _ => ModelState.Of(_scratch),
            };
        }

        _scratch.Clear();
        foreach (var s in states)
        {
            StepOne(s, op, _scratch);
        }

        var next = ModelState.Of(_scratch);
        return next is null ? null : Close(next);
    }

    /// <summary>
    /// Adds the states reachable by havoc writes — one state stands for "some havoc value", refined to the
    /// value a Get returns (see <see cref="AnyHavocValue"/>). Those from a state with bound L are subsumed by those from
    /// any state with a smaller bound, so only the smallest bound in the set matters; and one havoc step
    /// suffices (a havoc write after a havoc delete is a havoc write from the same bound — or from 0 when
    /// deletes reset it —, a havoc delete after a havoc write an absent state with a higher bound).
    /// </summary>
    private ModelState Close(ModelState state)
    {
        if (!HasHavoc)
        {
            return state;
        }

        // When a delete resets the bound, a havoc delete followed by a havoc write reaches the lowest bound.
        long low = _havocDelete && !_monotonicAcrossDeletes ? 0 : state.MinLow;
        _closure.Clear();
        foreach (var s in state.States)
        {
            _closure.Add(s);
        }

        if (_havocValues.Count > 0)
        {
            _closure.Add(new RegisterState(true, AnyHavocValue, RegisterState.UnknownVersion, low + 1));
        }

        if (_havocDelete)
        {
            _closure.Add(new RegisterState(false, -1, 0, _monotonicAcrossDeletes ? low : 0));
        }

        return ModelState.Of(_closure)!;
    }

    private RegisterState Deleted(RegisterState s) => new(false, -1, 0, _monotonicAcrossDeletes ? s.Low : 0);

    private const int UnreadValue = -2;

    /// <summary>
    /// The value of a state reached by a havoc write: any of the havoc values (always with an unknown
    /// version, since a havoc state is only ever created that way). A Get of one of them refines it.
    /// One state instead of one per value keeps the state sets small.
    /// </summary>
    private const int AnyHavocValue = -3;

    // Symbolic values (negative) stay as they are.
    private int Canonical(int valueId) => valueId < 0 || _readValues.Contains(valueId) ? valueId : UnreadValue;

    private RegisterState Written(int value, long version) => new(true, Canonical(value), version, version);

    private RegisterState WrittenUnknown(int value, long low) => new(true, Canonical(value), RegisterState.UnknownVersion, low);

    private void StepOne(RegisterState s, ModelOp op, List<RegisterState> next)
    {
        if (!op.Known)
        {
            StepUnknown(s, op, next);
            return;
        }

        switch (op.Kind)
        {
            case OperationKind.Get:
                if (!op.Found)
                {
                    // A missing key reads as version 0; anything else is a contradiction of the store's own contract.
                    if (!s.Exists && op.Version == 0)
                    {
                        next.Add(s);
                    }
                }
                else if (s.Exists && (s.ValueId == op.ReadValueId || (s.ValueId == AnyHavocValue && _havocValues.Contains(op.ReadValueId))))
                {
                    if (s.VersionUnknown)
                    {
                        if (CanBeUnknown(op.Version, s))
                        {
                            next.Add(Written(op.ReadValueId, op.Version));
                        }
                    }
                    else if (op.Version == s.Version)
                    {
                        next.Add(s);
                    }
                }

                break;

            case OperationKind.Put:
                if (op.Version > s.Low && ExistedFits(op, s))
                {
                    next.Add(Written(op.ValueId, op.Version));
                }

                break;

            case OperationKind.Delete:
                if (op.Existed == s.Exists)
                {
                    next.Add(Deleted(s));
                }

                break;

            case OperationKind.Cas when op.ResultKind == ResultKind.Written:
                if (!ExistedFits(op, s))
                {
                    break;
                }

                if (s.VersionUnknown)
                {
                    // The unknown version must have been exactly the expected one; the new one exceeds it.
                    if (CanBeUnknown(op.Expected, s) && op.Version > op.Expected)
                    {
                        next.Add(Written(op.ValueId, op.Version));
                    }
                }
                else if (s.Version == op.Expected && op.Version > s.Low)
                {
                    next.Add(Written(op.ValueId, op.Version));
                }

                break;

            case OperationKind.Cas:
                // A conflict: it reports the current version, which must differ from the expected one.
                if (op.Version == op.Expected)
                {
                    break;
                }

                if (s.VersionUnknown)
                {
                    if (CanBeUnknown(op.Version, s))
                    {
                        next.Add(Written(s.ValueId, op.Version));
                    }
                }
                else if (op.Version == s.Version)
                {
                    next.Add(s);
                }

                break;
        }
    }

    /// <summary>
    /// An operation without an answer taking effect now. It always can (that it may instead never take
    /// effect is the search's business: it may linearize it last, where it changes nothing observed).
    /// </summary>
    private void StepUnknown(RegisterState s, ModelOp op, List<RegisterState> next)
    {
        switch (op.Kind)
        {
            case OperationKind.Put:
                next.Add(WrittenUnknown(op.ValueId, s.Low + 1));
                break;

            case OperationKind.Delete:
                next.Add(Deleted(s));
                break;

            case OperationKind.Cas:
                if (!s.VersionUnknown)
                {
                    next.Add(s.Version == op.Expected ? WrittenUnknown(op.ValueId, s.Low + 1) : s);
                }
                else if (CanBeUnknown(op.Expected, s))
                {
                    // The unknown version may or may not be the expected one: both futures stay possible.
                    next.Add(WrittenUnknown(op.ValueId, op.Expected + 1));
                    next.Add(s);
                }
                else
                {
                    next.Add(s);
                }

                break;

            default:
                // Unanswered reads are dropped before the search; if one slips through it changes nothing.
                next.Add(s);
                break;
        }
    }

    /// <summary>Whether the unknown version of <paramref name="s"/> can be <paramref name="version"/>.</summary>
    private bool CanBeUnknown(long version, RegisterState s) => version >= s.Low && !_takenVersions.Contains(version);

    private static bool ExistedFits(ModelOp op, RegisterState s) => op.Existed is not { } existed || existed == s.Exists;
}
