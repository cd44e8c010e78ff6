using System.Diagnostics;
using Storage.Persistence;
using Storage.Raft;
using Storage.StateMachine;

namespace Storage.Shards;

// The Ready loop: step incoming messages, tick, take a Ready, send, apply, persist, Advance.
public sealed partial class ShardReplicaGrain
{
    public Task Deliver(byte[] batch)
    {
        if (_stopped)
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
            LogMalformedBatch(_keyText, e.Message);
            return Task.CompletedTask;
        }

        foreach (var m in messages)
        {
            if (m.To == _key.Replica)
            {
                _node.Step(m);
            }
        }

        Pump();
        return Task.CompletedTask;
    }

    private Task OnTick(CancellationToken _)
    {
        if (!_stopped && !_faultHooks.IsPaused(_keyText))
        {
            CatchUpTicks();
            Pump();
            MaybePollSplitCheckpoint();
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
        var interval = (long)(_options.TickInterval.TotalSeconds * Stopwatch.Frequency);
        var now = Stopwatch.GetTimestamp();
        var due = (now - _lastTickAt) / interval;
        if (due <= 0)
        {
            return false;
        }

        // Past a few election timeouts more ticks change nothing but the loop's length.
        var ticks = Math.Min(due, 4L * _options.ElectionTicks);
        for (var i = 0; i < ticks; i++)
        {
            _node.Tick();
        }

        _lastTickAt = ticks == due ? _lastTickAt + (due * interval) : now;
        return true;
    }

    private void Pump()
    {
        while (!_stopped && _outstanding is null && _node.TakeReady() is { } ready)
        {
            _outstanding = ready;
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
                await WriteOrStopAsync(new ReplicaLogWrite(_keyText, _incarnation, null, Array.Empty<Entry>(), long.MaxValue));
            }

            if (_stopped)
            {
                return;
            }

            await WriteOrStopAsync(new ReplicaLogWrite(_keyText, _incarnation, ready.HardState, ready.Entries));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPersistFailed(e, _keyText);
            Stop("a durable write failed; reloading from the database");
        }

        if (!_stopped)
        {
            Finish(ready);
        }
    }

    private async Task WriteOrStopAsync(ReplicaLogWrite write)
    {
        if (await _writer.WriteAsync(write) == WriteOutcome.Fenced)
        {
            LogFenced(_keyText, _incarnation);
            Stop("fenced by a newer activation");
        }
    }

    private void Finish(Ready ready)
    {
        if (ready.Snapshot is { } snap)
        {
            _log.ApplySnapshot(snap);
            _machine = KvStateMachine.Restore(snap.Data);
            _lastCheckpointIndex = snap.Index;
            _bytesSinceCheckpoint = 0;
        }

        _log.Append(ready.Entries);
        if (ready.HardState is { } hs)
        {
            _log.SetHardState(hs);
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

        _node.Advance(ready);
        _outstanding = null;
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
            if (_pendingReadIndex.Remove(rs.Context, out var done))
            {
                _readsWaitingForApply.Add((rs.Index, done));
            }
        }

        ReleaseReads();
    }

    private void Apply(Entry entry)
    {
        KvApplyResult? result = null;
        if (entry.Type == EntryType.Normal && KvCommandCodec.IsSplit(entry.Data))
        {
            var split = ApplySplitEntry(entry);
            if (_pendingSplits.Remove(entry.Index, out var proposer))
            {
                if (proposer.Term == entry.Term)
                {
                    proposer.Done.TrySetResult(split);
                }
                else
                {
                    proposer.Done.TrySetException(new NotLeaderException(_keyText, _node.Leader));
                }
            }
        }
        else if (entry.Type == EntryType.Normal && entry.Data.Length > 0)
        {
            try
            {
                var command = KvCommandCodec.Decode(entry.Data);
                result = _machine.Apply(entry.Index, command);
                CountWrite(command, result);
            }
            catch (FormatException e)
            {
                // Every replica holds the same bytes, so every replica skips it alike.
                LogUndecodableEntry(_keyText, entry.Index, e.Message);
                _machine.ApplyNoOp(entry.Index);
            }
        }
        else
        {
            _machine.ApplyNoOp(entry.Index);
        }

        _bytesSinceCheckpoint += entry.Size;
        _metrics.Applied.Add(1);
        ReleaseMembershipWaiter(entry);
        if (_pendingWrites.Remove(entry.Index, out var waiting))
        {
            if (waiting.Term == entry.Term && result is not null)
            {
                waiting.Done.TrySetResult(result);
            }
            else
            {
                // Another entry took this index: ours was never applied, so retrying is safe.
                waiting.Done.TrySetException(new NotLeaderException(_keyText, _node.Leader));
            }
        }

        if (_pendingSplits.Remove(entry.Index, out var lost))
        {
            // A split proposed at this index was replaced by another entry: it was never applied.
            lost.Done.TrySetException(new NotLeaderException(_keyText, _node.Leader));
        }
    }

    private void ReleaseReads()
    {
        for (var i = _readsWaitingForApply.Count - 1; i >= 0; i--)
        {
            if (_readsWaitingForApply[i].Index <= _machine.AppliedIndex)
            {
                _readsWaitingForApply[i].Done.TrySetResult(true);
                _readsWaitingForApply.RemoveAt(i);
            }
        }
    }

    private void OnRoleChanged(SoftState soft)
    {
        if (soft.Role == RaftRole.Leader)
        {
            _metrics.LeaderChanges.Add(1);
            LogBecameLeader(_keyText, _node.Term);
        }
        else
        {
            // Raft drops read requests when leadership moves; tell their callers now.
            foreach (var done in _pendingReadIndex.Values)
            {
                done.TrySetException(new NotLeaderException(_keyText, soft.Leader));
            }

            _pendingReadIndex.Clear();
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
            if (!_peers.TryGetValue(group.Key, out var peer))
            {
                peer = GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaKey(_key.Shard, group.Key).ToString());
                _peers[group.Key] = peer;
            }

            try
            {
                _ = peer.Deliver(RaftWireCodec.Encode(group.ToList()));
            }
            catch (Exception e)
            {
                // Raft tolerates loss; the next heartbeat or retry repairs it.
                LogSendFailed(_keyText, group.Key, e.Message);
            }
        }
    }
}
