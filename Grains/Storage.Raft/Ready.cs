namespace Storage.Raft;

/// <summary>
/// A batch of work the node hands to the application. The application must, in order:
/// send <see cref="Messages"/> (any time); make <see cref="HardState"/>, <see cref="Entries"/> and
/// <see cref="Snapshot"/> durable; then send <see cref="PersistedMessages"/> (they acknowledge that
/// durable state), apply <see cref="Snapshot"/> and <see cref="CommittedEntries"/>, release
/// <see cref="ReadStates"/> once applied, and call <see cref="RaftNode.Advance"/>. Only one Ready is
/// outstanding at a time.
/// </summary>
public sealed class Ready
{
    internal Ready(
        SoftState? softState,
        HardState? hardState,
        IReadOnlyList<Entry> entries,
        Snapshot? snapshot,
        IReadOnlyList<Entry> committedEntries,
        IReadOnlyList<Message> messages,
        IReadOnlyList<Message> persistedMessages,
        IReadOnlyList<ReadState> readStates,
        bool termOrVoteChanged)
    {
        TermOrVoteChanged = termOrVoteChanged;
        SoftState = softState;
        HardState = hardState;
        Entries = entries;
        Snapshot = snapshot;
        CommittedEntries = committedEntries;
        Messages = messages;
        PersistedMessages = persistedMessages;
        ReadStates = readStates;
    }

    /// <summary>Set when leader or role changed since the previous Ready.</summary>
    public SoftState? SoftState { get; }

    /// <summary>
    /// Set when term, vote or commit changed since the previous Ready. A new term or vote must be durable before
    /// <see cref="PersistedMessages"/> go out; a new commit index alone need not be (see <see cref="MustPersist"/>):
    /// a restarted node starts from the commit index it last stored and learns the rest from the leader, as the
    /// commit index is only ever a lower bound. Persist it whenever something else is written anyway.
    /// </summary>
    public HardState? HardState { get; }

    /// <summary>Whether <see cref="HardState"/> holds a term or vote not yet durable (not only a new commit index).</summary>
    public bool TermOrVoteChanged { get; }

    /// <summary>New log entries to persist (overwriting any stored entry at the same or later index).</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>A snapshot received from the leader: persist it (replacing the log) and restore the state machine.</summary>
    public Snapshot? Snapshot { get; }

    /// <summary>Entries known committed, in order, to apply to the state machine.</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; }

    /// <summary>Messages that may be sent before the state in this Ready is durable (a leader's appends, heartbeats).</summary>
    public IReadOnlyList<Message> Messages { get; }

    /// <summary>Messages that may be sent only after this Ready's state is durable (acknowledgements, votes).</summary>
    public IReadOnlyList<Message> PersistedMessages { get; }

    public IReadOnlyList<ReadState> ReadStates { get; }

    /// <summary>
    /// Whether anything here must reach disk before <see cref="PersistedMessages"/> go out: entries, a snapshot,
    /// or a new term or vote. A change of the commit index alone does not count, so that the followers of a busy
    /// group do not pay a durable write per commit notification.
    /// </summary>
    public bool MustPersist => TermOrVoteChanged || Entries.Count > 0 || Snapshot is not null;
}
