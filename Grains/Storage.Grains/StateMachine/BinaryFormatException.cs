namespace Storage.StateMachine;

/// <summary>
/// A binary buffer is malformed: a KV command, a snapshot or a batch of Raft messages that is truncated,
/// corrupted (checksum mismatch), of an unknown format version, internally inconsistent, or announces more
/// items or bytes than it holds. Decoding never guesses; a replica that meets this in its log must stop
/// applying rather than diverge from its peers, and drops such a message from the network.
/// </summary>
public sealed class BinaryFormatException : FormatException
{
    public BinaryFormatException(string message) : base(message) { }

    public BinaryFormatException(string message, Exception inner) : base(message, inner) { }
}
