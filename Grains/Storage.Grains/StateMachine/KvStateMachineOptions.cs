namespace Storage.StateMachine;

/// <summary>
/// Bounds of the exactly-once table. Eviction reads only these numbers and the applied log, so every replica
/// evicts the same clients at the same index — but only if every replica uses the same numbers. They are
/// therefore part of the replicated state: stored in each snapshot and restored from it, never re-read from
/// a silo's configuration for an existing shard.
/// <para>A client evicted from the table loses exactly-once protection for a retry of its last write, so keep
/// <see cref="ClientIdleEntries"/> well above the number of entries a shard applies during a client's retry
/// window (the default allows ~30 s of retries at ~30k writes/s).</para>
/// </summary>
public sealed record KvStateMachineOptions
{
    private readonly long _clientIdleEntries = 1_000_000;
    private readonly int _maxClients = 100_000;

    public static KvStateMachineOptions Default { get; } = new();

    /// <summary>A client whose last command is more than this many log entries old is forgotten.</summary>
    public long ClientIdleEntries
    {
        get => _clientIdleEntries;
        init => _clientIdleEntries = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ClientIdleEntries), value, "must be at least 1");
    }

    /// <summary>At most this many clients are remembered; beyond it the least recently seen client is forgotten.</summary>
    public int MaxClients
    {
        get => _maxClients;
        init => _maxClients = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxClients), value, "must be at least 1");
    }
}
