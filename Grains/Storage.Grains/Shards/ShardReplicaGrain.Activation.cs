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

    private async Task BootstrapIfFounderAsync(CancellationToken ct)
    {
        var map = await _maps.GetAsync(ct);
        if (map.FindShard(_key.Shard) is null)
        {
            map = await _maps.GetAsync(ct, refresh: true);
        }

        // Only a shard of the first map starts as a new, empty group. A shard born from a split starts from the
        // checkpoints its parent's replicas write; one whose checkpoint is not there yet (or a shard the map does not
        // show yet: a split being published) starts empty with no membership and takes its state from its leader.
        var shard = map.FindShard(_key.Shard);
        if (shard is null || shard.ParentShard >= 0)
        {
            LogStartsEmpty(_keyText);
            _awaitingSplitCheckpoint = true;
            return;
        }

        var founders = shard.Replicas.Select(r => r.ReplicaId).ToList();
        if (!founders.Contains(_key.Replica))
        {
            return; // a replica that joins later learns everything from the leader
        }

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
}
