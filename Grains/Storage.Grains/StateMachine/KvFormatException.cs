namespace Storage.StateMachine;

/// <summary>
/// A command or snapshot buffer is malformed: truncated, corrupted (checksum mismatch), of an unknown
/// format version, or internally inconsistent. Decoding never guesses; a replica that meets this must
/// stop applying rather than diverge from its peers.
/// </summary>
public sealed class KvFormatException : FormatException
{
    public KvFormatException(string message) : base(message) { }

    public KvFormatException(string message, Exception inner) : base(message, inner) { }
}
