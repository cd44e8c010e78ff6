namespace Storage.Consistency;

/// <summary>
/// One concrete state of a key in the model.
/// <para><see cref="Version"/> is the exact current version (0 when absent), or <see cref="UnknownVersion"/>
/// after a write whose answer was lost: then the key exists with <see cref="ValueId"/> and some version
/// ≥ <see cref="Low"/> that a later observation (Get, CAS) pins.</para>
/// <para><see cref="Low"/> is a bound every later write must exceed: versions are log indexes, so each write
/// gets a version larger than every version before it on this key — also across delete and re-create.
/// With an exact version it is the largest version known to have been assigned; with an unknown version
/// it is the smallest the unknown one can be (next write &gt; unknown ≥ Low).</para>
/// </summary>
internal readonly record struct RegisterState(bool Exists, int ValueId, long Version, long Low) : IComparable<RegisterState>
{
    public const long UnknownVersion = -1;

    public static RegisterState Initial => new(false, -1, 0, 0);

    public bool VersionUnknown => Version == UnknownVersion;

    /// <summary>
    /// Whether every future behaviour of <paramref name="other"/> is also one of this state — then a set of
    /// possible states may drop <paramref name="other"/>, and the search may prune a configuration with it,
    /// without changing which histories are accepted. An absent state covers an absent one with a higher
    /// bound; an unknown version ≥ L covers an unknown one ≥ L' ≥ L of the same value. (Not an exact
    /// version v ≥ L: v may be the version of an answered write, which an unknown one can never be.)
    /// </summary>
    public bool Subsumes(RegisterState other)
    {
        if (Exists != other.Exists)
        {
            return false;
        }

        if (!Exists)
        {
            return Low <= other.Low;
        }

        return VersionUnknown && other.VersionUnknown && ValueId == other.ValueId ? Low <= other.Low : this == other;
    }

    public int CompareTo(RegisterState other)
    {
        int c = Exists.CompareTo(other.Exists);
        if (c != 0)
        {
            return c;
        }

        c = ValueId.CompareTo(other.ValueId);
        if (c != 0)
        {
            return c;
        }

        c = Version.CompareTo(other.Version);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }

    public override string ToString() =>
        !Exists ? $"absent (next version > {Low})"
        : VersionUnknown ? $"value#{ValueId} v≥{Low}"
        : $"value#{ValueId} v{Version}";
}
