namespace Storage.StateMachine;

/// <summary>
/// The outcome of <see cref="KvStateMachine.Apply"/>. Construct with <see cref="Applied"/>,
/// <see cref="Conflict"/>, <see cref="Stale"/> or <see cref="WrongShard"/>; fields that do not belong to the status are 0/false.
/// </summary>
public sealed record KvApplyResult
{
    private KvApplyResult(KvApplyStatus status, long version, bool existed, long expectedVersion, long actualVersion, long lastSequence, bool isReplay, long mapVersion = 0)
    {
        MapVersion = mapVersion;
        Status = status;
        Version = version;
        Existed = existed;
        ExpectedVersion = expectedVersion;
        ActualVersion = actualVersion;
        LastSequence = lastSequence;
        IsReplay = isReplay;
    }

    public KvApplyStatus Status { get; }

    /// <summary>Applied: the key's version after the write (the write's log index; 0 after a delete).</summary>
    public long Version { get; }

    /// <summary>Applied: whether the key existed before the write.</summary>
    public bool Existed { get; }

    /// <summary>Conflict: the version the command expected.</summary>
    public long ExpectedVersion { get; }

    /// <summary>Conflict: the key's version when the command was applied (0 if missing).</summary>
    public long ActualVersion { get; }

    /// <summary>Stale: the client's last applied sequence, which this command's sequence is below.</summary>
    public long LastSequence { get; }

    /// <summary>WrongShard: the shard map version that set the shard's current range.</summary>
    public long MapVersion { get; }

    /// <summary>
    /// True when the answer came from the exactly-once table: the command repeated the client's last
    /// (client, sequence) and this is the remembered result of the first application, not a new one.
    /// </summary>
    public bool IsReplay { get; }

    public bool IsSuccess => Status == KvApplyStatus.Applied;

    public static KvApplyResult Applied(long version, bool existed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return new(KvApplyStatus.Applied, version, existed, 0, 0, 0, false);
    }

    public static KvApplyResult Conflict(long expectedVersion, long actualVersion)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        ArgumentOutOfRangeException.ThrowIfNegative(actualVersion);
        if (expectedVersion == actualVersion)
        {
            throw new ArgumentException("a conflict needs different expected and actual versions");
        }

        return new(KvApplyStatus.Conflict, 0, false, expectedVersion, actualVersion, 0, false);
    }

    public static KvApplyResult Stale(long lastSequence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lastSequence, 1);
        return new(KvApplyStatus.Stale, 0, false, 0, 0, lastSequence, false);
    }

    public static KvApplyResult WrongShard(long mapVersion)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mapVersion, 1);
        return new(KvApplyStatus.WrongShard, 0, false, 0, 0, 0, false, mapVersion);
    }

    /// <summary>The same outcome, flagged as answered from the exactly-once table.</summary>
    public KvApplyResult AsReplay() => new(Status, Version, Existed, ExpectedVersion, ActualVersion, LastSequence, true, MapVersion);

    /// <summary>
    /// The app-facing form: a <see cref="WriteResult"/> for a success; otherwise throws
    /// <see cref="VersionConflictException"/> (conflict), <see cref="InvalidRequestException"/> (stale) or
    /// <see cref="WrongShardException"/> (the shard no longer owns the key).
    /// </summary>
    public WriteResult ToWriteResult(string key) => Status switch
    {
        KvApplyStatus.Applied => new WriteResult(Version, Existed),
        KvApplyStatus.Conflict => throw new VersionConflictException(key, ExpectedVersion, ActualVersion),
        KvApplyStatus.Stale => throw new InvalidRequestException(
            $"stale write id for '{key}': its sequence is below the client's last applied sequence {LastSequence}; " +
            "this request was not applied (an earlier attempt of it may have been)"),
        KvApplyStatus.WrongShard => throw new WrongShardException(MapVersion),
        _ => throw new InvalidOperationException($"unknown status {Status}"),
    };
}
