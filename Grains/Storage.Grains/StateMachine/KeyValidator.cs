using System.Text;

namespace Storage.StateMachine;

/// <summary>
/// Checks keys and values against <see cref="StoreLimits"/> at the edge (router or replica, before proposing),
/// with messages that say the size and the limit. Nothing is proposed when a check fails.
/// </summary>
public static class KeyValidator
{
    /// <summary>
    /// Throws <see cref="InvalidKeyException"/> if the key is null, empty, not valid Unicode (an unpaired
    /// surrogate cannot be stored as UTF-8 without changing it) or longer than the limit. Returns its UTF-8 length.
    /// </summary>
    public static int ValidateKey(string? key, StoreLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (string.IsNullOrEmpty(key))
        {
            throw new InvalidKeyException(key is null ? "key is null" : "key is empty");
        }

        // Quick reject before counting: every char is at least one UTF-8 byte.
        if (key.Length > limits.MaxKeyBytes)
        {
            throw TooLong(Utf8ByteCountLenient(key), limits);
        }

        int bytes = Utf8ByteCount(key);
        return bytes <= limits.MaxKeyBytes ? bytes : throw TooLong(bytes, limits);
    }

    public static int ValidateKey(string? key) => ValidateKey(key, StoreLimits.Default);

    /// <summary>Throws <see cref="InvalidRequestException"/> for a null value and <see cref="ValueTooLargeException"/> above the limit.</summary>
    public static void ValidateValue(byte[]? value, StoreLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (value is null)
        {
            throw new InvalidRequestException("value is null (use Delete to remove a key)");
        }

        if (value.Length > limits.MaxValueBytes)
        {
            throw new ValueTooLargeException($"value is {value.Length} bytes; the limit is {limits.MaxValueBytes} bytes");
        }
    }

    public static void ValidateValue(byte[]? value) => ValidateValue(value, StoreLimits.Default);

    /// <summary>
    /// A scan prefix may be null or empty (everything) but otherwise obeys the key rules: a prefix longer than
    /// the longest possible key is a mistake, not an empty result.
    /// </summary>
    public static void ValidatePrefix(string? prefix, StoreLimits limits)
    {
        if (!string.IsNullOrEmpty(prefix))
        {
            ValidateKey(prefix, limits);
        }
    }

    /// <summary>Validates a command's key and, for Put and CompareAndSwap, its value.</summary>
    public static void Validate(KvCommand command, StoreLimits limits)
    {
        ArgumentNullException.ThrowIfNull(command);
        ValidateKey(command.Key, limits);
        switch (command)
        {
            case PutCommand put:
                ValidateValue(put.Value, limits);
                break;
            case CompareAndSwapCommand cas:
                ValidateValue(cas.Value, limits);
                break;
        }
    }

    private static int Utf8ByteCount(string key)
    {
        try
        {
            return Utf8.Strict.GetByteCount(key);
        }
        catch (EncoderFallbackException)
        {
            throw new InvalidKeyException("key is not valid Unicode: it contains an unpaired surrogate");
        }
    }

    // For the message of an over-long key only; an invalid surrogate counts as its replacement.
    private static int Utf8ByteCountLenient(string key) => Encoding.UTF8.GetByteCount(key);

    private static InvalidKeyException TooLong(int bytes, StoreLimits limits) =>
        new($"key is {bytes} UTF-8 bytes; the limit is {limits.MaxKeyBytes} bytes");
}
