namespace Storage;

/// <summary>
/// An unexpected failure inside the store (a bug, or a condition it does not recognise), reported as the original
/// error's type and message rather than as a server type the client cannot deserialize. Not transient: it is not
/// retried automatically. A write that fails with it may or may not have been applied; retrying it with the same
/// <see cref="WriteId"/> is safe.
/// </summary>
[GenerateSerializer, Alias("Storage.StorageInternalException")]
public sealed class StorageInternalException : StorageException
{
    public StorageInternalException(string errorType, string errorMessage)
        : base($"internal error in the store: {errorType}: {errorMessage}")
    {
        ErrorType = errorType;
        ErrorMessage = errorMessage;
    }

    /// <summary>The full name of the server-side exception type, e.g. "System.InvalidOperationException".</summary>
    [Id(0)] public string ErrorType { get; }

    /// <summary>The server-side exception's message.</summary>
    [Id(1)] public string ErrorMessage { get; }
}
