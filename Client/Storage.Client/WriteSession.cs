namespace Storage.Client;

/// <summary>
/// One client id of the exactly-once protocol and the last sequence it used. Leased by one write at a time:
/// the store allows a client id at most one write in flight and refuses a lower sequence than one applied.
/// </summary>
internal sealed class WriteSession
{
    public WriteSession(Guid clientId) => ClientId = clientId;

    public Guid ClientId { get; }

    /// <summary>The sequence of the last write issued under this id (0 before the first).</summary>
    public long LastSequence { get; private set; }

    /// <summary>The id for the next write: the same client id, one sequence higher.</summary>
    public WriteId Next() => new(ClientId, ++LastSequence);
}
