namespace Storage.StateMachine;

/// <summary>
/// Size limits checked by <see cref="KeyValidator"/> before a write is proposed (and before a read is routed).
/// They are configuration, not replicated state: the state machine applies whatever was committed.
/// </summary>
public sealed record StoreLimits
{
    public const int DefaultMaxKeyBytes = 1024;
    public const int DefaultMaxValueBytes = 1024 * 1024;

    private readonly int _maxKeyBytes = DefaultMaxKeyBytes;
    private readonly int _maxValueBytes = DefaultMaxValueBytes;

    public static StoreLimits Default { get; } = new();

    /// <summary>Maximum key length in UTF-8 bytes.</summary>
    public int MaxKeyBytes
    {
        get => _maxKeyBytes;
        init => _maxKeyBytes = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxKeyBytes), value, "must be at least 1");
    }

    /// <summary>Maximum value length in bytes.</summary>
    public int MaxValueBytes
    {
        get => _maxValueBytes;
        init => _maxValueBytes = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxValueBytes), value, "must not be negative");
    }
}
