using System.Diagnostics;
using Storage.Persistence;
using Storage.Raft;
using Storage.StateMachine;

namespace Storage.Shards;

// Activation: load the checkpoint and the log tail, bootstrap a new group's founders, start the node and its timer.
public sealed partial class ShardReplicaGrain
{
    /// <summary>
    /// A failed activation's exception goes to every waiting caller as it is, past the grain call filters, so it is
    /// translated here (<see cref="ErrorBoundary"/>): PostgreSQL being down while a replica activates is the common
    /// case, and the router must see a transient, typed error to retry with the same WriteId.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ActivateAsync(cancellationToken);
        }
        catch (Exception e)
        {
            var typed = ErrorBoundary.Translate(e, _connectionString);
            if (ReferenceEquals(typed, e))
            {
                throw;
            }

            LogActivationFailed(e, _keyText, typed.GetType().Name);
            throw typed;
        }
    }

    private async Task ActivateAsync(CancellationToken cancellationToken)
    {
        _keyText = this.GetPrimaryKeyString();
        _key = ReplicaKey.Parse(_keyText);
        await RefuseIfRemovedAsync(cancellationToken);
        await _checkpoint.ReadStateAsync();
        _incarnation = await _store.AcquireIncarnationAsync(_keyText, cancellationToken);

        var cp = _checkpoint.State;
        var snapshot = cp.Index > 0
            ? new Snapshot(new SnapshotMetadata(cp.Index, cp.Term, new ConfState(cp.Voters, cp.Learners)), cp.Data)
            : Snapshot.Initial(ConfState.Empty);
        var stored = await _store.LoadAsync(_keyText, snapshot.Index, cancellationToken);

        // A split's child replica starts from a checkpoint its parent wrote at the parent's term, with no hard state of
        // its own. Starting at term 0 would let it lead at a term below the last entry it holds and then append
        // entries with a lower term after it, which breaks the log-matching rules: start at the checkpoint's term.
        // (No replica of the new group can have voted in that term: the group did not exist.)
        var hardState = stored.HardState ?? default;
        if (hardState.Term < snapshot.Term)
        {
            hardState = new HardState(snapshot.Term, 0, Math.Max(hardState.Commit, snapshot.Index));
        }

        _log = new MemoryRaftLog(snapshot, hardState);
        if (stored.Entries.Count > 0 && stored.Entries[0].Index != snapshot.Index + 1)
        {
            throw new InvalidOperationException(
                $"replica {_keyText}: stored log starts at {stored.Entries[0].Index} but the checkpoint is at {snapshot.Index}");
        }

        _log.Append(stored.Entries);
        _machine = cp.Index > 0 ? KvStateMachine.Restore(cp.Data) : new KvStateMachine();
        _lastCheckpointIndex = snapshot.Index;

        if (stored.HardState is null && cp.Index == 0 && stored.Entries.Count == 0)
        {
            await BootstrapIfFounderAsync(cancellationToken);
        }

        _node = new RaftNode(
            new RaftConfig
            {
                Id = _key.Replica,
                ElectionTick = _options.ElectionTicks,
                HeartbeatTick = _options.HeartbeatTicks,
                MaxSizePerMsg = _options.MaxSizePerMsg,
                MaxInflightMsgs = _options.MaxInflightMsgs,
                ReadOnlyOption = _options.LeaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
                MaxClockDriftTicks = _options.LeaseDriftTicks,
                Applied = snapshot.Index,
            },
            _log,
            new Random());

        _lastTickAt = Stopwatch.GetTimestamp();
        this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions(_options.TickInterval, _options.TickInterval)
        {
            Interleave = true,
            KeepAlive = true,
        });
        _localReplicas.Add(_keyText);
        LogActivated(_keyText, _incarnation, snapshot.Index, _log.LastIndex, _node.Conf.ToString());
        Pump();
    }

    /// <summary>
    /// A replica removed from its group and the map (a stray message from a peer, a stale router) must not run again:
    /// it deletes whatever durable state it still has and fails its activation.
    /// </summary>
    private async Task RefuseIfRemovedAsync(CancellationToken ct)
    {
        var map = await _maps.GetAsync(ct);
        if (IsRemoved(map))
        {
            await DeleteDurableStateAsync();
            LogRemovedRefused(_keyText, map.Version);
            throw new ReplicaRemovedException(_keyText, map.Version);
        }
    }

    private async Task BootstrapIfFounderAsync(CancellationToken ct)
    {
        // A replica that is a voter in this silo's copy of the map is checked against the directory's own map: one that
        // was just removed and retired (its state deleted) may still be a voter in a stale copy, and must not found a
        // group again. Any other replica is no founder by either map (a joining one is a learner in both), so the
        // directory is not asked: it may be the one activating this replica, in the middle of a pass.
        var map = await _maps.GetAsync(ct);
        if (!IsFounder(map))
        {
            StartEmptyIfSplitChild(map);
            return;
        }

        map = await _maps.GetAsync(ct, refresh: true);
        if (IsRemoved(map))
        {
            throw new ReplicaRemovedException(_keyText, map.Version);
        }

        var shard = map.FindShard(_key.Shard)
            ?? throw new InvalidRequestException($"unknown shard {_key.Shard} (shard map version {map.Version})");

        if (!IsFounder(map))
        {
            StartEmptyIfSplitChild(map);
            return;
        }

        var founders = shard.Replicas.Where(r => r.Role == ReplicaRole.Voter).Select(r => r.ReplicaId).ToList();

        var entries = MemoryRaftLog.BootstrapEntries(founders);
        var hardState = new HardState(1, 0, entries.Count);
        if (await _writer.WriteAsync(new ReplicaLogWrite(_keyText, _incarnation, hardState, entries)) == WriteOutcome.Fenced)
        {
            throw new InvalidOperationException($"replica {_keyText} was fenced while bootstrapping");
        }

        _log.Append(entries);
        _log.SetHardState(hardState);
        LogBootstrapped(_keyText, string.Join(",", founders));
    }

    /// <summary>
    /// A founder is a voter of its shard in the map. A replica that joins later (a replacement, a higher replication
    /// factor) enters the map as a learner and learns everything from the leader; it has durable state before the map
    /// makes it a voter, so it never bootstraps.
    /// </summary>
    /// <para>Only a shard of the first map starts as a new, empty group: a shard born from a split
    /// (<see cref="ShardInfo.ParentShard"/>) starts from the checkpoints its parent's replicas write.</para>
    private bool IsFounder(ShardMap map) =>
        map.FindShard(_key.Shard) is { ParentShard: < 0 } shard
        && shard.Replicas.Any(r => r.ReplicaId == _key.Replica && r.Role == ReplicaRole.Voter);

    /// <summary>
    /// A replica of a shard born from a split whose checkpoint is not there yet (or of a shard this silo's map does not
    /// show yet: a split being published) starts empty with no membership: it takes its state from its leader, or
    /// reloads once its checkpoint arrives (see <see cref="MaybePollSplitCheckpoint"/>).
    /// </summary>
    private void StartEmptyIfSplitChild(ShardMap map)
    {
        if (map.FindShard(_key.Shard) is not { ParentShard: < 0 })
        {
            LogStartsEmpty(_keyText);
            _awaitingSplitCheckpoint = true;
        }
    }
}
