using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;
using Storage.Directory;
using Storage.Persistence;
using Storage.Raft;
using Storage.StateMachine;

namespace Storage.Shards;

/// <summary>
/// Drives one <see cref="RaftNode"/>: persists each Ready through the silo's <see cref="LogWriter"/> (group
/// commit, fenced by this activation's incarnation), sends batched one-way messages to its peers, applies
/// committed entries to the <see cref="KvStateMachine"/>, answers waiting callers, ticks from a timer and
/// checkpoints through grain storage. Reentrant: every turn is synchronous between awaits, so the grain
/// never holds its turn while PostgreSQL commits.
/// </summary>
[Reentrant]
[KeepAlive]
[ReplicaPlacement]
public sealed partial class ShardReplicaGrain : Grain, IShardReplicaGrain
{
    private readonly ILogger<ShardReplicaGrain> logger;
    private readonly LogWriter writer;
    private readonly IRaftLogStore store;
    private readonly ShardReplicaOptions options;
    private readonly StoreLimits limits;
    private readonly ShardMapCache maps;
    private readonly ReplicaMetrics metrics;
    private readonly IPersistentState<ReplicaCheckpoint> checkpoint;
    private readonly string siloKey;
    private readonly LocalReplicas localReplicas;
    private readonly Faults.FaultController? faults;
    private readonly Dictionary<long, (long Term, TaskCompletionSource<KvApplyResult> Done)> pendingWrites = new();
    private readonly Dictionary<long, TaskCompletionSource<bool>> pendingReadIndex = new();
    private readonly List<(long Index, TaskCompletionSource<bool> Done)> readsWaitingForApply = new();
    private readonly Dictionary<long, IShardReplicaGrain> peers = new();

    private ReplicaKey key;
    private string keyText = "";
    private long incarnation;
    private MemoryRaftLog log = null!;
    private RaftNode node = null!;
    private KvStateMachine machine = null!;
    private Ready? outstanding;
    private bool stopped;
    private long readSequence;
    private long lastTickAt;
    private long lastCheckpointIndex;
    private long bytesSinceCheckpoint;
    private bool checkpointInFlight;

    public ShardReplicaGrain(
        ILogger<ShardReplicaGrain> logger,
        LogWriter writer,
        IRaftLogStore store,
        IOptions<ShardReplicaOptions> options,
        IOptions<StoreLimitsOptions> limits,
        ShardMapCache maps,
        ReplicaMetrics metrics,
        ILocalSiloDetails silo,
        LocalReplicas localReplicas,
        IServiceProvider services,
        [PersistentState("checkpoint", StorageProviders.Checkpoints)] IPersistentState<ReplicaCheckpoint> checkpoint)
    {
        this.logger = logger;
        this.writer = writer;
        this.store = store;
        this.options = options.Value;
        this.limits = limits.Value.ToLimits();
        this.maps = maps;
        this.metrics = metrics;
        this.checkpoint = checkpoint;
        siloKey = SiloKeys.Of(silo.SiloAddress);
        this.localReplicas = localReplicas;
        faults = (Faults.FaultController?)services.GetService(typeof(Faults.FaultController));
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        keyText = this.GetPrimaryKeyString();
        key = ReplicaKey.Parse(keyText);
        incarnation = await store.AcquireIncarnationAsync(keyText, cancellationToken);

        var cp = checkpoint.State;
        var snapshot = cp.Index > 0
            ? new Snapshot(new SnapshotMetadata(cp.Index, cp.Term, new ConfState(cp.Voters, cp.Learners)), cp.Data)
            : Snapshot.Initial(ConfState.Empty);
        var stored = await store.LoadAsync(keyText, snapshot.Index, cancellationToken);
        log = new MemoryRaftLog(snapshot, stored.HardState ?? default);
        if (stored.Entries.Count > 0 && stored.Entries[0].Index != snapshot.Index + 1)
        {
            throw new InvalidOperationException(
                $"replica {keyText}: stored log starts at {stored.Entries[0].Index} but the checkpoint is at {snapshot.Index}");
        }

        log.Append(stored.Entries);
        machine = cp.Index > 0 ? KvStateMachine.Restore(cp.Data) : new KvStateMachine();
        lastCheckpointIndex = snapshot.Index;

        if (stored.HardState is null && cp.Index == 0 && stored.Entries.Count == 0)
        {
            await BootstrapIfFounderAsync(cancellationToken);
        }

        node = new RaftNode(
            new RaftConfig
            {
                Id = key.Replica,
                ElectionTick = options.ElectionTicks,
                HeartbeatTick = options.HeartbeatTicks,
                MaxSizePerMsg = options.MaxSizePerMsg,
                MaxInflightMsgs = options.MaxInflightMsgs,
                ReadOnlyOption = options.LeaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
                MaxClockDriftTicks = options.LeaseDriftTicks,
                Applied = snapshot.Index,
            },
            log,
            new Random());

        lastTickAt = Stopwatch.GetTimestamp();
        this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions(options.TickInterval, options.TickInterval)
        {
            Interleave = true,
            KeepAlive = true,
        });
        localReplicas.Add(keyText);
        LogActivated(keyText, incarnation, snapshot.Index, log.LastIndex, node.Conf.ToString());
        Pump();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        localReplicas.Remove(keyText);
        Stop($"deactivating: {reason}");
        return Task.CompletedTask;
    }

    // ---------------------------------------------------------------- grain calls

    public Task Deliver(byte[] batch)
    {
        if (stopped)
        {
            return Task.CompletedTask;
        }

        List<Message> messages;
        try
        {
            messages = RaftWireCodec.Decode(batch);
        }
        catch (FormatException e)
        {
            LogMalformedBatch(keyText, e.Message);
            return Task.CompletedTask;
        }

        foreach (var m in messages)
        {
            if (m.To == key.Replica)
            {
                node.Step(m);
            }
        }

        Pump();
        return Task.CompletedTask;
    }

    public async Task<WriteResult> Write(byte[] command)
    {
        KvCommand cmd;
        try
        {
            cmd = KvCommandCodec.Decode(command);
        }
        catch (FormatException e)
        {
            throw new InvalidRequestException($"malformed write command: {e.Message}");
        }

        KeyValidator.Validate(cmd, limits);
        EnsureRunning();
        var proposal = node.Propose(command);
        if (!proposal.IsAccepted)
        {
            throw new NotLeaderException(keyText, proposal.Outcome == ProposeOutcome.NotLeader ? proposal.Leader : 0);
        }

        var done = new TaskCompletionSource<KvApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        pendingWrites[proposal.Index] = (proposal.Term, done);
        Pump();
        KvApplyResult result;
        try
        {
            result = await done.Task.WaitAsync(options.OperationTimeout);
        }
        catch (TimeoutException)
        {
            pendingWrites.Remove(proposal.Index);
            throw new ShardBusyException($"write to shard {key.Shard} not confirmed within {options.OperationTimeout.TotalSeconds:0.#} s; its outcome is unknown");
        }

        return result.ToWriteResult(cmd.Key);
    }

    public async Task<GetResult> Read(string key, ReadConsistency consistency)
    {
        KeyValidator.ValidateKey(key, limits);
        if (consistency == ReadConsistency.Linearizable && !CanReadUnderLease())
        {
            await ConfirmReadIndexAsync();
        }
        else
        {
            EnsureRunning();
        }

        return machine.Get(key);
    }

    public async Task<ScanPage> Scan(string prefix, string? continueAfter, int limit, ReadConsistency consistency)
    {
        if (consistency == ReadConsistency.Linearizable && !CanReadUnderLease())
        {
            await ConfirmReadIndexAsync();
        }
        else
        {
            EnsureRunning();
        }

        return machine.Scan(prefix, continueAfter, limit);
    }

    public Task<ReplicaStatus> GetStatus()
    {
        return Task.FromResult(new ReplicaStatus(
            key.Replica,
            siloKey,
            stopped ? "Stopped" : node.Role.ToString(),
            node.Term,
            node.CommitIndex,
            machine.AppliedIndex,
            Reachable: true,
            IsLearner: node.Conf.IsLearner(key.Replica),
            Incarnation: incarnation));
    }

    public Task Ensure() => Task.CompletedTask;

    public async Task<bool> HandOffLeadership()
    {
        if (stopped || node.Role != RaftRole.Leader)
        {
            return false;
        }

        var status = node.Status();
        var target = status.Progress
            .Where(p => p.Key != key.Replica && node.Conf.IsVoter(p.Key))
            .OrderByDescending(p => p.Value.Match)
            .Select(p => p.Key)
            .FirstOrDefault();
        if (target == 0 || !node.TransferLeadership(target))
        {
            return false;
        }

        Pump();
        var deadline = DateTime.UtcNow + options.TickInterval * options.ElectionTicks * 2;
        while (node.Role == RaftRole.Leader && DateTime.UtcNow < deadline)
        {
            await Task.Delay(options.TickInterval);
        }

        var moved = node.Role != RaftRole.Leader;
        if (moved)
        {
            metrics.Handoffs.Add(1);
            LogHandedOff(keyText, target);
        }

        return moved;
    }

    public Task<bool> PreferLeader(long preferredReplica)
    {
        if (stopped || node.Role != RaftRole.Leader || preferredReplica == key.Replica || !node.Conf.IsVoter(preferredReplica))
        {
            return Task.FromResult(false);
        }

        var status = node.Status();
        if (!status.Progress.TryGetValue(preferredReplica, out var progress) || progress.Match != status.LastIndex || !progress.RecentActive)
        {
            return Task.FromResult(false);
        }

        var started = node.TransferLeadership(preferredReplica);
        Pump();
        return Task.FromResult(started);
    }

    public async Task Relocate()
    {
        if (stopped)
        {
            return;
        }

        if (node.Role == RaftRole.Leader)
        {
            await HandOffLeadership();
        }

        LogRelocating(keyText, siloKey);
        Stop("relocating to its assigned silo");
    }

    public Task<bool> TransferLeadership(long targetReplica)
    {
        EnsureRunning();
        var started = node.TransferLeadership(targetReplica);
        Pump();
        return Task.FromResult(started);
    }

    // ---------------------------------------------------------------- the Ready loop

    private Task OnTick(CancellationToken _)
    {
        if (!stopped && faults?.IsPaused(keyText) != true)
        {
            CatchUpTicks();
            Pump();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Ticks the node once per tick interval elapsed on the monotonic clock since the last tick, so that its sense
    /// of time (election timeouts, the leader's lease) does not fall behind when timers run late or the process was
    /// paused. Called from the timer and before every lease decision.
    /// </summary>
    private bool CatchUpTicks()
    {
        var interval = (long)(options.TickInterval.TotalSeconds * Stopwatch.Frequency);
        var now = Stopwatch.GetTimestamp();
        var due = (now - lastTickAt) / interval;
        if (due <= 0)
        {
            return false;
        }

        // Past a few election timeouts more ticks change nothing but the loop's length.
        var ticks = Math.Min(due, 4L * options.ElectionTicks);
        for (var i = 0; i < ticks; i++)
        {
            node.Tick();
        }

        lastTickAt = ticks == due ? lastTickAt + (due * interval) : now;
        return true;
    }

    private void Pump()
    {
        while (!stopped && outstanding is null && node.TakeReady() is { } ready)
        {
            outstanding = ready;
            Send(ready.Messages);

            // Committed entries are durable on a quorum already: apply them and answer their callers now,
            // not after this replica's own write of the Ready (which may only be the new commit index).
            ApplyCommitted(ready);
            if (ready.MustPersist)
            {
                _ = PersistThenFinishAsync(ready);
                return;
            }

            Finish(ready);
        }
    }

    private async Task PersistThenFinishAsync(Ready ready)
    {
        try
        {
            if (ready.Snapshot is { } snap)
            {
                // A snapshot from the leader replaces the log: save it as our checkpoint, then drop every stored entry.
                await SaveCheckpointAsync(snap.Index, snap.Term, snap.Metadata.ConfState, snap.Data);
                await WriteOrStopAsync(new ReplicaLogWrite(keyText, incarnation, null, Array.Empty<Entry>(), long.MaxValue));
            }

            if (stopped)
            {
                return;
            }

            await WriteOrStopAsync(new ReplicaLogWrite(keyText, incarnation, ready.HardState, ready.Entries));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPersistFailed(e, keyText);
            Stop("a durable write failed; reloading from the database");
        }

        if (!stopped)
        {
            Finish(ready);
        }
    }

    private async Task WriteOrStopAsync(ReplicaLogWrite write)
    {
        if (await writer.WriteAsync(write) == WriteOutcome.Fenced)
        {
            LogFenced(keyText, incarnation);
            Stop("fenced by a newer activation");
        }
    }

    private void Finish(Ready ready)
    {
        if (ready.Snapshot is { } snap)
        {
            log.ApplySnapshot(snap);
            machine = KvStateMachine.Restore(snap.Data);
            lastCheckpointIndex = snap.Index;
            bytesSinceCheckpoint = 0;
        }

        log.Append(ready.Entries);
        if (ready.HardState is { } hs)
        {
            log.SetHardState(hs);
        }

        Send(ready.PersistedMessages);
        if (ready.Snapshot is not null)
        {
            ReleaseReads();
        }

        if (ready.SoftState is { } soft)
        {
            OnRoleChanged(soft);
        }

        node.Advance(ready);
        outstanding = null;
        MaybeCheckpoint();
        Pump();
    }

    private void ApplyCommitted(Ready ready)
    {
        foreach (var entry in ready.CommittedEntries)
        {
            Apply(entry);
        }

        foreach (var rs in ready.ReadStates)
        {
            if (pendingReadIndex.Remove(rs.Context, out var done))
            {
                readsWaitingForApply.Add((rs.Index, done));
            }
        }

        ReleaseReads();
    }

    private void Apply(Entry entry)
    {
        KvApplyResult? result = null;
        if (entry.Type == EntryType.Normal && entry.Data.Length > 0)
        {
            try
            {
                result = machine.Apply(entry.Index, KvCommandCodec.Decode(entry.Data));
            }
            catch (FormatException e)
            {
                // Every replica holds the same bytes, so every replica skips it alike.
                LogUndecodableEntry(keyText, entry.Index, e.Message);
                machine.ApplyNoOp(entry.Index);
            }
        }
        else
        {
            machine.ApplyNoOp(entry.Index);
        }

        bytesSinceCheckpoint += entry.Size;
        metrics.Applied.Add(1);
        if (pendingWrites.Remove(entry.Index, out var waiting))
        {
            if (waiting.Term == entry.Term && result is not null)
            {
                waiting.Done.TrySetResult(result);
            }
            else
            {
                // Another entry took this index: ours was never applied, so retrying is safe.
                waiting.Done.TrySetException(new NotLeaderException(keyText, node.Leader));
            }
        }
    }

    private void ReleaseReads()
    {
        for (var i = readsWaitingForApply.Count - 1; i >= 0; i--)
        {
            if (readsWaitingForApply[i].Index <= machine.AppliedIndex)
            {
                readsWaitingForApply[i].Done.TrySetResult(true);
                readsWaitingForApply.RemoveAt(i);
            }
        }
    }

    private void OnRoleChanged(SoftState soft)
    {
        if (soft.Role == RaftRole.Leader)
        {
            metrics.LeaderChanges.Add(1);
            LogBecameLeader(keyText, node.Term);
        }
        else
        {
            // Raft drops read requests when leadership moves; tell their callers now.
            foreach (var done in pendingReadIndex.Values)
            {
                done.TrySetException(new NotLeaderException(keyText, soft.Leader));
            }

            pendingReadIndex.Clear();
        }
    }

    /// <summary>
    /// The fast path of a linearizable read: true when this leader holds its lease and has applied everything it
    /// knows committed, so the state machine can answer now (no round, no waiting). Ticks are brought up to date
    /// first: the lease is counted in them.
    /// </summary>
    private bool CanReadUnderLease()
    {
        EnsureRunning();
        if (!options.LeaseReads || faults?.IsPaused(keyText) == true)
        {
            return false;
        }

        if (CatchUpTicks())
        {
            Pump();
        }

        return !stopped && node.TryLeaseRead(out var index) && machine.AppliedIndex >= index;
    }

    private async Task ConfirmReadIndexAsync()
    {
        EnsureRunning();
        var context = ++readSequence;
        if (!node.ReadIndex(context))
        {
            throw new NotLeaderException(keyText, 0);
        }

        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        pendingReadIndex[context] = done;
        Pump();
        try
        {
            await done.Task.WaitAsync(options.OperationTimeout);
        }
        catch (TimeoutException)
        {
            pendingReadIndex.Remove(context);
            throw new ShardBusyException($"read on shard {key.Shard} not confirmed by a quorum within {options.OperationTimeout.TotalSeconds:0.#} s");
        }
    }

    private void Send(IReadOnlyList<Message> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }

        foreach (var group in messages.GroupBy(m => m.To))
        {
            if (!peers.TryGetValue(group.Key, out var peer))
            {
                peer = GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaKey(key.Shard, group.Key).ToString());
                peers[group.Key] = peer;
            }

            try
            {
                _ = peer.Deliver(RaftWireCodec.Encode(group.ToList()));
            }
            catch (Exception e)
            {
                // Raft tolerates loss; the next heartbeat or retry repairs it.
                LogSendFailed(keyText, group.Key, e.Message);
            }
        }
    }

    // ---------------------------------------------------------------- checkpoints

    private void MaybeCheckpoint()
    {
        if (stopped || checkpointInFlight)
        {
            return;
        }

        var applied = machine.AppliedIndex;
        if (applied - lastCheckpointIndex < options.CheckpointEntries && bytesSinceCheckpoint < options.CheckpointBytes)
        {
            return;
        }

        _ = CheckpointAsync(applied);
    }

    private async Task CheckpointAsync(long index)
    {
        checkpointInFlight = true;
        try
        {
            if (!log.TryGetTerm(index, out var term))
            {
                return;
            }

            var conf = node.ConfStateAt(index);
            var data = machine.CreateSnapshot();
            await SaveCheckpointAsync(index, term, conf, data);
            if (stopped)
            {
                return;
            }

            log.Compact(index, conf, data);
            await WriteOrStopAsync(new ReplicaLogWrite(keyText, incarnation, null, Array.Empty<Entry>(), index));
            lastCheckpointIndex = index;
            bytesSinceCheckpoint = 0;
            metrics.Checkpoints.Add(1);
            LogCheckpointed(keyText, index, data.Length);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCheckpointFailed(e, keyText, index);
        }
        finally
        {
            checkpointInFlight = false;
        }
    }

    private async Task SaveCheckpointAsync(long index, long term, ConfState conf, byte[] data)
    {
        if (checkpoint.State.Index >= index)
        {
            return;
        }

        checkpoint.State = new ReplicaCheckpoint
        {
            Index = index,
            Term = term,
            Voters = conf.Voters.ToArray(),
            Learners = conf.Learners.ToArray(),
            Data = data,
        };
        try
        {
            await checkpoint.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation wrote meanwhile: take its version, and only overwrite an older checkpoint.
            await checkpoint.ReadStateAsync();
            if (checkpoint.State.Index < index)
            {
                checkpoint.State = new ReplicaCheckpoint { Index = index, Term = term, Voters = conf.Voters.ToArray(), Learners = conf.Learners.ToArray(), Data = data };
                await checkpoint.WriteStateAsync();
            }
        }
    }

    // ---------------------------------------------------------------- lifecycle

    private async Task BootstrapIfFounderAsync(CancellationToken ct)
    {
        var map = await maps.GetAsync(ct);
        var shard = map.FindShard(key.Shard)
            ?? throw new InvalidRequestException($"unknown shard {key.Shard} (shard map version {map.Version})");
        var founders = shard.Replicas.Select(r => r.ReplicaId).ToList();
        if (!founders.Contains(key.Replica))
        {
            return; // a replica that joins later learns everything from the leader
        }

        var entries = MemoryRaftLog.BootstrapEntries(founders);
        var hardState = new HardState(1, 0, entries.Count);
        if (await writer.WriteAsync(new ReplicaLogWrite(keyText, incarnation, hardState, entries)) == WriteOutcome.Fenced)
        {
            throw new InvalidOperationException($"replica {keyText} was fenced while bootstrapping");
        }

        log.Append(entries);
        log.SetHardState(hardState);
        LogBootstrapped(keyText, string.Join(",", founders));
    }

    private void EnsureRunning()
    {
        if (stopped)
        {
            throw new ShardBusyException($"replica {keyText} is restarting");
        }
    }

    private void Stop(string why)
    {
        if (stopped)
        {
            return;
        }

        stopped = true;
        var error = new ShardBusyException($"replica {keyText} stopped ({why}); retry");
        foreach (var w in pendingWrites.Values)
        {
            w.Done.TrySetException(error);
        }

        foreach (var r in pendingReadIndex.Values)
        {
            r.TrySetException(error);
        }

        foreach (var r in readsWaitingForApply)
        {
            r.Done.TrySetException(error);
        }

        pendingWrites.Clear();
        pendingReadIndex.Clear();
        readsWaitingForApply.Clear();
        this.DeactivateOnIdle();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} active (incarnation {Incarnation}, checkpoint {Checkpoint}, last index {Last}, {Conf})")]
    private partial void LogActivated(string replica, long incarnation, long checkpoint, long last, string conf);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} bootstrapped the group with founders {Founders}")]
    private partial void LogBootstrapped(string replica, string founders);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} became leader in term {Term}")]
    private partial void LogBecameLeader(string replica, long term);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} leaves silo {Silo} for the silo its shard map assigns")]
    private partial void LogRelocating(string replica, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} handed leadership to replica {Target}")]
    private partial void LogHandedOff(string replica, long target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} (incarnation {Incarnation}) was fenced by a newer activation")]
    private partial void LogFenced(string replica, long incarnation);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} could not persist its log")]
    private partial void LogPersistFailed(Exception e, string replica);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} dropped a malformed message batch: {Reason}")]
    private partial void LogMalformedBatch(string replica, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} skipped undecodable entry {Index}: {Reason}")]
    private partial void LogUndecodableEntry(string replica, long index, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} could not send to {Peer}: {Reason}")]
    private partial void LogSendFailed(string replica, long peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} checkpointed at {Index} ({Bytes} bytes) and truncated its log")]
    private partial void LogCheckpointed(string replica, long index, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} checkpoint at {Index} failed")]
    private partial void LogCheckpointFailed(Exception e, string replica, long index);
}
