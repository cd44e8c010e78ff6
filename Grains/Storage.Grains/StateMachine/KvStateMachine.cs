using System.Text;

namespace Storage.StateMachine;

/// <summary>
/// The replicated key-value state machine of one shard: ordinal-ordered keys with values and versions, plus
/// the exactly-once table. Deterministic and pure — its state is a function of the applied log alone, so
/// every replica that applies the same entries holds the same state and produces the same snapshot bytes.
/// <para>Versions: a key's version is the log index of the write that produced it, so versions grow with
/// every write, also across delete and re-create.</para>
/// <para>Exactly-once: per client the table keeps the last applied sequence and its result. A command
/// repeating that (client, sequence) is answered from the table and not applied again; a lower sequence is
/// answered <see cref="KvApplyStatus.Stale"/> and never applied. A client id must therefore have at most one
/// write outstanding at a time (a router that pipelines uses one client id per lane). The table is bounded by
/// <see cref="KvStateMachineOptions"/>; eviction is driven only by applied indexes, so replicas agree on it.</para>
/// <para>Range: the hash range the shard owns and the shard map version that set it (<see cref="RangeVersion"/>).
/// Version 0 means "never split": the shard owns the range the first map gave it, which the state machine does not
/// need to know (the first split command carries it). Once set, a write whose key hashes outside the range is
/// answered <see cref="KvApplyStatus.WrongShard"/> and not applied.</para>
/// <para>Value arrays are stored as given and returned as stored: treat them as immutable.</para>
/// Not thread-safe (the owning grain is single-threaded).
/// </summary>
public sealed class KvStateMachine
{
    private readonly Dictionary<string, StoredValue> _data = new(StringComparer.Ordinal);
    private readonly OrderedKeySet _keys = new();

    // Sessions in least-recently-seen order (head = oldest). Every command touches its client with the
    // current index, which only grows, so the list is also sorted by LastIndex and eviction looks at the head.
    private readonly LinkedList<SessionEntry> _sessionOrder = new();
    private readonly Dictionary<Guid, LinkedListNode<SessionEntry>> _sessions = new();

    public KvStateMachine() : this(KvStateMachineOptions.Default) { }

    public KvStateMachine(KvStateMachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    public KvStateMachineOptions Options { get; }

    /// <summary>The index of the last entry applied (0 for a new state machine).</summary>
    public long AppliedIndex { get; private set; }

    /// <summary>Number of keys.</summary>
    public int Count => _data.Count;

    /// <summary>Sum of UTF-8 key bytes and value bytes: a size estimate for split and checkpoint decisions.</summary>
    public long DataBytes { get; private set; }

    /// <summary>The shard map version that last set this shard's range; 0 if it was never split (see the class remarks).</summary>
    public long RangeVersion { get; private set; }

    /// <summary>First hash of the range (inclusive); meaningful when <see cref="RangeVersion"/> is above 0.</summary>
    public ulong RangeStart { get; private set; }

    /// <summary>Last hash of the range (inclusive); meaningful when <see cref="RangeVersion"/> is above 0.</summary>
    public ulong RangeEnd { get; private set; } = ulong.MaxValue;

    /// <summary>Number of clients in the exactly-once table.</summary>
    public int TrackedClientCount => _sessions.Count;

    /// <summary>
    /// Applies the command at log index <paramref name="index"/>, which must be above <see cref="AppliedIndex"/>
    /// (gaps are allowed: entries without a KV command may be passed to <see cref="ApplyNoOp"/> or skipped).
    /// Never throws for a valid command; a conflict or stale write is a result, not an exception.
    /// </summary>
    public KvApplyResult Apply(long index, KvCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        AdvanceTo(index);

        // Proposed before a split and applied after it: the key is no longer ours. Not remembered for the client,
        // so the retry at the shard that owns the key now is applied there (once: its table was copied at the split).
        if (!Owns(command.Key))
        {
            EvictSessions();
            return KvApplyResult.WrongShard(RangeVersion);
        }

        var writeId = command.WriteId;
        KvApplyResult result;
        if (_sessions.TryGetValue(writeId.ClientId, out var node))
        {
            var session = node.Value;
            if (writeId.Sequence == session.LastSequence)
            {
                result = session.LastResult.AsReplay();
            }
            else if (writeId.Sequence < session.LastSequence)
            {
                result = KvApplyResult.Stale(session.LastSequence);
            }
            else
            {
                result = Execute(index, command);
                session.LastSequence = writeId.Sequence;
                session.LastResult = result;
            }

            session.LastIndex = index;
            _sessionOrder.Remove(node);
            _sessionOrder.AddLast(node);
        }
        else
        {
            result = Execute(index, command);
            var entry = new SessionEntry(writeId.ClientId, writeId.Sequence, result, index);
            _sessions.Add(writeId.ClientId, _sessionOrder.AddLast(entry));
        }

        EvictSessions();
        return result;
    }

    /// <summary>Whether <paramref name="key"/> hashes into this shard's range (always true before the first split).</summary>
    public bool Owns(string key) => RangeVersion == 0 || Contains(KeyHash.Of(key));

    /// <summary>
    /// Applies a split at log index <paramref name="index"/>. Every replica gets the same answer, so every replica
    /// keeps the same part: <see cref="KvSplitStatus.Split"/> drops the keys from <see cref="SplitCommand.SplitAt"/>
    /// on and returns them, with a copy of the exactly-once table, as the new shard's state at the same index (a
    /// write applied here before the split and retried at the new shard is answered from the copy, not applied
    /// again). A re-proposal of a split already done is <see cref="KvSplitStatus.AlreadySplit"/>, a split that does
    /// not fit the range <see cref="KvSplitStatus.Refused"/>; neither changes anything.
    /// </summary>
    public KvSplitResult ApplySplit(long index, SplitCommand split)
    {
        ArgumentNullException.ThrowIfNull(split);
        AdvanceTo(index);
        EvictSessions();

        var (start, end) = RangeVersion == 0 ? (split.ParentRangeStart, split.ParentRangeEnd) : (RangeStart, RangeEnd);
        if (RangeVersion >= split.NewMapVersion)
        {
            return start == split.ParentRangeStart && end < split.SplitAt
                ? new KvSplitResult(KvSplitStatus.AlreadySplit, null, $"already split at map version {RangeVersion}")
                : KvSplitResult.Refused($"the range [{start:x16}, {end:x16}] was set by map version {RangeVersion}, not older than the split's {split.NewMapVersion}");
        }

        if (start != split.ParentRangeStart || end != split.ParentRangeEnd)
        {
            return KvSplitResult.Refused($"the split was planned for range [{split.ParentRangeStart:x16}, {split.ParentRangeEnd:x16}] but the shard holds [{start:x16}, {end:x16}]");
        }

        var kept = new List<(string Key, StoredValue Value)>();
        var moved = new List<(string Key, StoredValue Value)>();
        foreach (var (key, value) in EnumerateOrdered())
        {
            (KeyHash.Of(key) >= split.SplitAt ? moved : kept).Add((key, value));
        }

        var child = new KvStateMachine(Options);
        child.LoadRestored(index, moved, EnumerateSessions().ToList());
        child.SetRange(split.SplitAt, end, split.NewMapVersion);

        foreach (var (key, _) in moved)
        {
            _data.Remove(key);
        }

        _keys.LoadSorted(kept.Select(k => k.Key).ToArray());
        DataBytes -= child.DataBytes;
        SetRange(start, split.SplitAt - 1, split.NewMapVersion);
        return new KvSplitResult(KvSplitStatus.Split, child, $"split at {split.SplitAt:x16}: {moved.Count} keys to shard {split.NewShardId}");
    }

    /// <summary>
    /// The key hash that halves this shard's keys (the new shard would take the keys from it on), or null when fewer
    /// than two keys lie in (<paramref name="rangeStart"/>, <paramref name="rangeEnd"/>] so that no such point exists.
    /// </summary>
    public ulong? MedianKeyHash(ulong rangeStart, ulong rangeEnd)
    {
        var hashes = new List<ulong>(_data.Count);
        foreach (var key in _data.Keys)
        {
            var h = KeyHash.Of(key);
            if (h >= rangeStart && h <= rangeEnd)
            {
                hashes.Add(h);
            }
        }

        return MedianSplitPoint(hashes, rangeStart);
    }

    /// <summary>The median of <paramref name="hashes"/> as a split point above <paramref name="rangeStart"/>, or null if there is none.</summary>
    public static ulong? MedianSplitPoint(List<ulong> hashes, ulong rangeStart)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        hashes.Sort();
        if (hashes.Count < 2)
        {
            return null;
        }

        // The upper half starts at the median; equal hashes (one hot key) cannot be cut apart, so move up to the
        // first distinct one, and if every hash is the same there is no point that splits them.
        var i = hashes.Count / 2;
        while (i < hashes.Count && hashes[i] == hashes[i - 1])
        {
            i++;
        }

        if (i == hashes.Count)
        {
            i = hashes.Count / 2;
            while (i > 0 && hashes[i] == hashes[i - 1])
            {
                i--;
            }
        }

        return i == 0 || hashes[i] <= rangeStart ? null : hashes[i];
    }

    /// <summary>Records that the entry at <paramref name="index"/> carried no KV command (a leader's no-op, a membership change).</summary>
    public void ApplyNoOp(long index)
    {
        AdvanceTo(index);
        EvictSessions();
    }

    public GetResult Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _data.TryGetValue(key, out var stored) ? new GetResult(true, stored.Value, stored.Version) : GetResult.Missing;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> keys starting with <paramref name="prefix"/> (null or empty: all keys) and
    /// ordinally after <paramref name="startAfter"/> (null: from the first), in ordinal order.
    /// <see cref="ScanPage.ContinueAfter"/> is the last returned key when more matching keys exist, else null.
    /// </summary>
    public ScanPage Scan(string? prefix, string? startAfter, int limit) => Scan(prefix, startAfter, limit, 0, ulong.MaxValue);

    /// <summary>
    /// As <see cref="Scan(string?, string?, int)"/>, counting only keys whose hash lies in [<paramref name="rangeStart"/>,
    /// <paramref name="rangeEnd"/>]: the range the caller's shard map gives this shard, so that a replica that has not
    /// applied a split yet does not also return keys the new shard answers for.
    /// </summary>
    public ScanPage Scan(string? prefix, string? startAfter, int limit, ulong rangeStart, ulong rangeEnd)
    {
        if (limit < 1)
        {
            throw new InvalidRequestException($"scan limit {limit} is not positive");
        }

        prefix ??= string.Empty;

        // Keys with a given prefix are one contiguous run in ordinal order, starting at the prefix itself.
        bool afterCursor = startAfter is not null && string.CompareOrdinal(startAfter, prefix) >= 0;
        string? from = afterCursor ? startAfter : (prefix.Length == 0 ? null : prefix);

        var filter = rangeStart != 0 || rangeEnd != ulong.MaxValue;
        bool InRange(ulong hash) => hash >= rangeStart && hash <= rangeEnd;
        var items = new List<KeyValue>(Math.Min(limit, 256));
        string? continueAfter = null;
        foreach (string key in _keys.EnumerateFrom(from, inclusive: !afterCursor))
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                break;
            }

            if (filter && !InRange(KeyHash.Of(key)))
            {
                continue;
            }

            if (items.Count == limit)
            {
                continueAfter = items[^1].Key;
                break;
            }

            var stored = _data[key];
            items.Add(new KeyValue(key, stored.Value, stored.Version));
        }

        return new ScanPage(items, continueAfter);
    }

    public bool TryGetSession(Guid clientId, out ClientSession session)
    {
        if (_sessions.TryGetValue(clientId, out var node))
        {
            session = node.Value.ToSession();
            return true;
        }

        session = default;
        return false;
    }

    /// <summary>The exactly-once table, least recently seen client first.</summary>
    public IReadOnlyList<ClientSession> GetSessions() => _sessionOrder.Select(s => s.ToSession()).ToArray();

    /// <summary>A self-contained, checksummed image of the whole state (see <see cref="KvSnapshotFormat"/>).</summary>
    public byte[] CreateSnapshot() => KvSnapshotFormat.Write(this);

    /// <summary>Rebuilds a state machine from <see cref="CreateSnapshot"/>; throws <see cref="BinaryFormatException"/> if it is corrupt.</summary>
    public static KvStateMachine Restore(ReadOnlySpan<byte> snapshot) => KvSnapshotFormat.Read(snapshot);

    public static KvStateMachine Restore(byte[] snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return KvSnapshotFormat.Read(snapshot);
    }

    // ---- used by KvSnapshotFormat ----

    internal IEnumerable<(string Key, StoredValue Value)> EnumerateOrdered()
    {
        foreach (string key in _keys.EnumerateFrom(null, inclusive: true))
        {
            yield return (key, _data[key]);
        }
    }

    internal IEnumerable<ClientSession> EnumerateSessions() => _sessionOrder.Select(s => s.ToSession());

    /// <summary>Loads restored state; the caller has already checked order and ranges.</summary>
    internal void LoadRestored(long appliedIndex, List<(string Key, StoredValue Value)> ordered, List<ClientSession> sessions)
    {
        AppliedIndex = appliedIndex;
        var keys = new string[ordered.Count];
        long bytes = 0;
        for (int i = 0; i < ordered.Count; i++)
        {
            var (key, value) = ordered[i];
            keys[i] = key;
            _data.Add(key, value);
            bytes += Encoding.UTF8.GetByteCount(key) + value.Value.Length;
        }

        _keys.LoadSorted(keys);
        DataBytes = bytes;
        foreach (var s in sessions)
        {
            _sessions.Add(s.ClientId, _sessionOrder.AddLast(new SessionEntry(s.ClientId, s.LastSequence, s.LastResult, s.LastIndex)));
        }
    }

    /// <summary>Sets the range (snapshot restore, split).</summary>
    internal void SetRange(ulong start, ulong end, long version)
    {
        RangeStart = start;
        RangeEnd = end;
        RangeVersion = version;
    }

    private bool Contains(ulong hash) => hash >= RangeStart && hash <= RangeEnd;

    private void AdvanceTo(long index)
    {
        // Re-applying an index would double-apply a write: a driver bug that must be loud.
        if (index <= AppliedIndex)
        {
            throw new InvalidOperationException($"index {index} is not above the applied index {AppliedIndex}");
        }

        AppliedIndex = index;
    }

    private KvApplyResult Execute(long index, KvCommand command)
    {
        string key = command.Key;
        bool existed = _data.TryGetValue(key, out var current);
        long actual = existed ? current.Version : 0;
        switch (command)
        {
            case PutCommand put:
                Store(key, put.Value, index, existed, current);
                return KvApplyResult.Applied(index, existed);

            case DeleteCommand:
                Remove(key, existed, current);
                return KvApplyResult.Applied(0, existed);

            case CompareAndSwapCommand cas:
                if (actual != cas.ExpectedVersion)
                {
                    return KvApplyResult.Conflict(cas.ExpectedVersion, actual);
                }

                Store(key, cas.Value, index, existed, current);
                return KvApplyResult.Applied(index, existed);

            case CompareAndDeleteCommand cad:
                if (actual != cad.ExpectedVersion)
                {
                    return KvApplyResult.Conflict(cad.ExpectedVersion, actual);
                }

                Remove(key, existed, current);
                return KvApplyResult.Applied(0, existed);

            default:
                // Commands are a closed set; a new kind must be handled here and in the codec.
                throw new InvalidOperationException($"unknown command type {command.GetType().Name}");
        }
    }

    private void Store(string key, byte[] value, long index, bool existed, StoredValue current)
    {
        _data[key] = new StoredValue(value, index);
        if (existed)
        {
            DataBytes += value.Length - current.Value.Length;
        }
        else
        {
            _keys.Add(key);
            DataBytes += Encoding.UTF8.GetByteCount(key) + value.Length;
        }
    }

    private void Remove(string key, bool existed, StoredValue current)
    {
        if (!existed)
        {
            return;
        }

        _data.Remove(key);
        _keys.Remove(key);
        DataBytes -= Encoding.UTF8.GetByteCount(key) + current.Value.Length;
    }

    private void EvictSessions()
    {
        // Idle: the client's last command is more than ClientIdleEntries entries behind the applied index.
        while (_sessionOrder.First is { } oldest && AppliedIndex - oldest.Value.LastIndex > Options.ClientIdleEntries)
        {
            RemoveSession(oldest);
        }

        // Capacity: forget the least recently seen. The client just touched is last, so it always stays.
        while (_sessions.Count > Options.MaxClients && _sessionOrder.First is { } lru)
        {
            RemoveSession(lru);
        }
    }

    private void RemoveSession(LinkedListNode<SessionEntry> node)
    {
        _sessionOrder.Remove(node);
        _sessions.Remove(node.Value.ClientId);
    }

    internal readonly record struct StoredValue(byte[] Value, long Version);

    private sealed class SessionEntry(Guid clientId, long lastSequence, KvApplyResult lastResult, long lastIndex)
    {
        public Guid ClientId { get; } = clientId;

        public long LastSequence { get; set; } = lastSequence;

        public KvApplyResult LastResult { get; set; } = lastResult;

        public long LastIndex { get; set; } = lastIndex;

        public ClientSession ToSession() => new(ClientId, LastSequence, LastResult, LastIndex);
    }
}
