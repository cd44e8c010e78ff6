namespace Storage.Directory;

/// <summary>
/// What one <see cref="RebalancePlanner.Plan"/> step may do: start at most <paramref name="MaxMoves"/> replica moves, and
/// leave <paramref name="BusyShards"/> (shards with a move or other work in flight) alone entirely.
/// </summary>
public sealed record RebalanceLimits(int MaxMoves, IReadOnlySet<int> BusyShards)
{
    /// <summary>No limit on moves and no busy shards: one call plans the whole way to the target.</summary>
    public static RebalanceLimits Unbounded { get; } = new(int.MaxValue, new HashSet<int>());
}
