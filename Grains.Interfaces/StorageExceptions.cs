namespace Storage;

/// <summary>Base of every error the store reports on purpose. Nothing was applied unless the type says otherwise.</summary>
[GenerateSerializer, Alias("Storage.StorageException")]
public class StorageException : Exception
{
    public StorageException(string message) : base(message) { }
    public StorageException(string message, Exception inner) : base(message, inner) { }

    /// <summary>
    /// True when the failure is transient: retrying may succeed, and for a write the outcome is unknown, so the retry
    /// must reuse its <see cref="WriteId"/>. False for definite errors (nothing was applied). Part of the type, not
    /// of the serialized state, so it cannot be lost on the wire; <see cref="TransientErrors"/> reads it.
    /// </summary>
    public virtual bool IsTransient => false;
}

/// <summary>The key is empty or longer than the configured maximum (UTF-8 bytes). Nothing was applied.</summary>
[GenerateSerializer, Alias("Storage.InvalidKeyException")]
public sealed class InvalidKeyException : StorageException
{
    public InvalidKeyException(string message) : base(message) { }
}

/// <summary>The value is larger than the configured maximum. Nothing was applied.</summary>
[GenerateSerializer, Alias("Storage.ValueTooLargeException")]
public sealed class ValueTooLargeException : StorageException
{
    public ValueTooLargeException(string message) : base(message) { }
}

/// <summary>A request argument is malformed (e.g. a negative expected version or page size). Nothing was applied.</summary>
[GenerateSerializer, Alias("Storage.InvalidRequestException")]
public sealed class InvalidRequestException : StorageException
{
    public InvalidRequestException(string message) : base(message) { }
}

/// <summary>A compare-and-swap found another version. Nothing was applied.</summary>
[GenerateSerializer, Alias("Storage.VersionConflictException")]
public sealed class VersionConflictException : StorageException
{
    public VersionConflictException(string key, long expected, long actual)
        : base($"version conflict on '{key}': expected {expected}, found {actual}")
    {
        Key = key;
        Expected = expected;
        Actual = actual;
    }

    [Id(0)] public string Key { get; }
    [Id(1)] public long Expected { get; }
    [Id(2)] public long Actual { get; }
}

/// <summary>
/// The shard did not answer within the retry budget. A write may or may not have been applied;
/// retrying with the same <see cref="WriteId"/> is safe.
/// </summary>
[GenerateSerializer, Alias("Storage.ShardUnavailableException")]
public sealed class ShardUnavailableException : StorageException
{
    public ShardUnavailableException(string message) : base(message) { }
    public ShardUnavailableException(string message, Exception inner) : base(message, inner) { }

    public override bool IsTransient => true;
}
