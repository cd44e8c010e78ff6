namespace Storage.StateMachine;

/// <summary>
/// What the exactly-once table remembers about one client: its last applied sequence, the result of that
/// write, and the log index of the client's last command (any command, so retries keep a session alive),
/// which is what idle eviction measures.
/// </summary>
public readonly record struct ClientSession(Guid ClientId, long LastSequence, KvApplyResult LastResult, long LastIndex);
