namespace Storage.Consistency;

/// <summary>
/// The model's state between operations: the set of concrete states the key may be in. A set (Porcupine's
/// "power-set" trick for non-deterministic models) because an unanswered CAS against an unknown version may
/// or may not have matched. Kept normalized — sorted, without duplicates or subsumed members — so equal
/// sets compare equal in the search's memo. Immutable.
/// </summary>
internal sealed class ModelState : IEquatable<ModelState>
{
    private readonly RegisterState[] _states;
    private readonly int _hash;

    private ModelState(RegisterState[] normalized)
    {
        _states = normalized;
        var hash = new HashCode();
        foreach (var s in normalized)
        {
            hash.Add(s);
        }

        _hash = hash.ToHashCode();
        long min = long.MaxValue;
        foreach (var s in normalized)
        {
            min = Math.Min(min, s.Low);
        }

        MinLow = min;
    }

    /// <summary>The smallest version bound among the possible states: later writes must exceed at least this.</summary>
    public long MinLow { get; }

    public ReadOnlySpan<RegisterState> States => _states;

    public int Count => _states.Length;

    public static ModelState Of(RegisterState single) => new([single]);

    /// <summary>Normalizes <paramref name="states"/> (which it may reorder) into a state; null when empty.</summary>
    public static ModelState? Of(List<RegisterState> states)
    {
        if (states.Count == 0)
        {
            return null;
        }

        if (states.Count == 1)
        {
            return new ModelState([states[0]]);
        }

        states.Sort();
        var kept = new List<RegisterState>(states.Count);
        for (int i = 0; i < states.Count; i++)
        {
            var s = states[i];
            if (i > 0 && s == states[i - 1])
            {
                continue;
            }

            bool subsumed = false;
            for (int j = 0; j < states.Count && !subsumed; j++)
            {
                subsumed = states[j] != s && states[j].Subsumes(s);
            }

            if (!subsumed)
            {
                kept.Add(s);
            }
        }

        return new ModelState(kept.ToArray());
    }

    /// <summary>
    /// Whether every future behaviour from <paramref name="other"/> is one from this state too: each of its
    /// concrete states is covered by one of ours.
    /// </summary>
    public bool Subsumes(ModelState other)
    {
        if (Equals(other))
        {
            return true;
        }

        foreach (var t in other._states)
        {
            bool covered = false;
            foreach (var s in _states)
            {
                if (s.Subsumes(t))
                {
                    covered = true;
                    break;
                }
            }

            if (!covered)
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(ModelState? other) =>
        other is not null && (ReferenceEquals(this, other) || (_hash == other._hash && _states.AsSpan().SequenceEqual(other._states)));

    public override bool Equals(object? obj) => Equals(obj as ModelState);

    public override int GetHashCode() => _hash;

    public override string ToString() => "{" + string.Join(" | ", _states) + "}";
}
