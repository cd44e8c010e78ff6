using Orleans.Storage;
using Storage.Raft;
using Storage.StateMachine;

namespace Storage.Shards;

// Splits: propose and apply a split, write the new shard's initial checkpoints, answer for keys the shard gave away.
public sealed partial class ShardReplicaGrain
{
    /// <summary>Recent write key hashes kept for a split by load (the point that halves recent writes).</summary>
    private const int RecentWriteHashCount = 1024;

    private readonly Dictionary<long, (long Term, TaskCompletionSource<KvSplitResult> Done)> _pendingSplits = new();
    private readonly ulong[] _recentWriteHashes = new ulong[RecentWriteHashCount];
    private long _writesApplied;
    private int _childCheckpointWrites;
    private Task _lastChildCheckpoint = Task.CompletedTask;
    private bool _awaitingSplitCheckpoint;
    private bool _checkpointPollInFlight;
    private int _ticksSinceCheckpointPoll;

    public async Task<SplitOutcome> ProposeSplit(byte[] command)
    {
        ArgumentNullException.ThrowIfNull(command);
        SplitCommand split;
        try
        {
            split = KvCommandCodec.DecodeSplit(command);
        }
        catch (FormatException e)
        {
            throw new InvalidRequestException($"malformed split command: {e.Message}");
        }

        EnsureRunning();
        var proposal = _node.Propose(command);
        if (!proposal.IsAccepted)
        {
            throw new NotLeaderException(_keyText, proposal.Outcome == ProposeOutcome.NotLeader ? proposal.Leader : 0);
        }

        var done = new TaskCompletionSource<KvSplitResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingSplits[proposal.Index] = (proposal.Term, done);
        Pump();
        KvSplitResult result;
        try
        {
            result = await done.Task.WaitAsync(_options.OperationTimeout);
        }
        catch (TimeoutException)
        {
            _pendingSplits.Remove(proposal.Index);
            throw new ShardBusyException($"split of shard {_key.Shard} at {split.SplitAt:x16} not applied within {_options.OperationTimeout.TotalSeconds:0.#} s; it may still be");
        }

        // The directory publishes the new shard when this returns, and the new shard's replicas start then: at least
        // this replica's child must find its checkpoint, or every child could start empty, with no member that knows
        // the group, and none could ever be elected.
        if (result.Status is KvSplitStatus.Split or KvSplitStatus.AlreadySplit)
        {
            await _lastChildCheckpoint.WaitAsync(_options.OperationTimeout);
            EnsureRunning(); // a failed checkpoint write stopped the replica
        }

        return result.Status switch
        {
            KvSplitStatus.Split => new SplitOutcome(false, proposal.Index),
            KvSplitStatus.AlreadySplit => new SplitOutcome(true, proposal.Index),
            _ => throw new InvalidRequestException($"shard {_key.Shard} refused the split at {split.SplitAt:x16}: {result.Reason}"),
        };
    }

    public Task<ulong?> SplitPoint(ulong rangeStart, ulong rangeEnd, bool byLoad)
    {
        EnsureRunning();
        if (!byLoad)
        {
            return Task.FromResult(_machine.MedianKeyHash(rangeStart, rangeEnd));
        }

        var seen = (int)Math.Min(_writesApplied, RecentWriteHashCount);
        var hashes = _recentWriteHashes.Take(seen).Where(h => h >= rangeStart && h <= rangeEnd).ToList();
        return Task.FromResult(StateMachine.KvStateMachine.MedianSplitPoint(hashes, rangeStart));
    }

    /// <summary>
    /// A replica of a shard born from a split that started before its parent wrote its checkpoint has no state and no
    /// membership: it can vote, but if every replica of the new group started so, none could ever campaign. While it
    /// is in that state it looks for its checkpoint about once a second and, once it is there, restarts to load it.
    /// </summary>
    private void MaybePollSplitCheckpoint()
    {
        if (!_awaitingSplitCheckpoint)
        {
            return;
        }

        if (_machine.AppliedIndex > 0)
        {
            _awaitingSplitCheckpoint = false; // its leader sent it a snapshot
            return;
        }

        if (_checkpointPollInFlight || ++_ticksSinceCheckpointPoll * _options.TickInterval < TimeSpan.FromSeconds(1))
        {
            return;
        }

        _ticksSinceCheckpointPoll = 0;
        _ = PollSplitCheckpointAsync();
    }

    private async Task PollSplitCheckpointAsync()
    {
        _checkpointPollInFlight = true;
        try
        {
            var slot = new GrainStateSlot<ReplicaCheckpoint>(_checkpointStorage, CheckpointStateName, this.GetGrainId());
            await slot.ReadStateAsync();
            if (slot.State.Index > 0 && _machine.AppliedIndex == 0)
            {
                Stop("the checkpoint its parent wrote at the split has arrived; reloading from it");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCheckpointFailed(e, _keyText, 0);
        }
        finally
        {
            _checkpointPollInFlight = false;
        }
    }

    /// <summary>
    /// Throws <see cref="WrongShardException"/> unless this replica owns <paramref name="key"/> as of a map no newer
    /// than the caller's: a caller that routed with an older map learns the newer version even for a key still
    /// owned here, so its cache catches up before it routes a key this shard gave away.
    /// </summary>
    private void CheckOwnership(string? key, long mapVersion)
    {
        if (_machine.RangeVersion > mapVersion || (key is not null && !_machine.Owns(key)))
        {
            throw new WrongShardException(_machine.RangeVersion);
        }
    }

    /// <summary>Notes an applied client write for the write rate and the load split point.</summary>
    private void CountWrite(KvCommand command, KvApplyResult result)
    {
        if (result.Status is KvApplyStatus.Applied or KvApplyStatus.Conflict && !result.IsReplay)
        {
            _recentWriteHashes[_writesApplied % RecentWriteHashCount] = KeyHash.Of(command.Key);
            _writesApplied++;
        }
    }

    /// <summary>
    /// Applies a split entry. Every replica computes the same outcome from the same log: the membership at the entry
    /// must be exactly the command's parent replicas (else another map planned it, and it is refused), and the state
    /// machine decides the rest. On a split, this replica writes its own child's initial checkpoint.
    /// </summary>
    private KvSplitResult ApplySplitEntry(Entry entry)
    {
        SplitCommand split;
        try
        {
            split = KvCommandCodec.DecodeSplit(entry.Data);
        }
        catch (FormatException e)
        {
            LogUndecodableEntry(_keyText, entry.Index, e.Message);
            _machine.ApplyNoOp(entry.Index);
            return KvSplitResult.Refused($"undecodable split entry: {e.Message}");
        }

        var conf = _node.ConfStateAt(entry.Index);
        var members = conf.Voters.Concat(conf.Learners).ToHashSet();
        KvSplitResult result;
        if (!members.SetEquals(split.ParentReplicas))
        {
            _machine.ApplyNoOp(entry.Index);
            result = KvSplitResult.Refused($"the split names replicas {string.Join(",", split.ParentReplicas)} but the group is {conf}");
        }
        else
        {
            result = _machine.ApplySplit(entry.Index, split);
        }

        LogSplitApplied(_keyText, entry.Index, result.Status.ToString(), result.Reason);
        if (result.Child is { } child && split.ChildOf(_key.Replica) is var childReplica and > 0)
        {
            _metrics.Splits.Add(1);
            var childConf = new ConfState(
                conf.Voters.Select(split.ChildOf).ToArray(),
                conf.Learners.Select(split.ChildOf).ToArray());
            var checkpoint = new ReplicaCheckpoint
            {
                Index = entry.Index,
                Term = entry.Term,
                Voters = childConf.Voters.ToArray(),
                Learners = childConf.Learners.ToArray(),
                Data = child.CreateSnapshot(),
            };
            _lastChildCheckpoint = WriteChildCheckpointAsync(new ReplicaKey(split.NewShardId, childReplica), checkpoint);
        }

        return result;
    }

    /// <summary>
    /// Writes the child replica's first checkpoint into the rows the child's grain reads at activation, unless it
    /// already has one at this index or later (it may be running already, having learned its state from its leader).
    /// Until this is durable the parent takes no checkpoint of its own past the split, so a restart re-applies the
    /// split and writes it again; a failure stops the replica for that reason.
    /// </summary>
    private async Task WriteChildCheckpointAsync(ReplicaKey child, ReplicaCheckpoint checkpoint)
    {
        _childCheckpointWrites++;
        var childKey = child.ToString();
        try
        {
            var slot = new GrainStateSlot<ReplicaCheckpoint>(_checkpointStorage, CheckpointStateName, GrainFactory.GetGrain<IShardReplicaGrain>(childKey).GetGrainId());
            for (var attempt = 0; ; attempt++)
            {
                await slot.ReadStateAsync();
                if (slot.State.Index >= checkpoint.Index)
                {
                    return;
                }

                slot.State = checkpoint;
                try
                {
                    await slot.WriteStateAsync();
                    LogChildCheckpointed(_keyText, childKey, checkpoint.Index, checkpoint.Data.Length);
                    return;
                }
                catch (InconsistentStateException) when (attempt < 3)
                {
                    // The child wrote one meanwhile: read it again and overwrite only an older one.
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogChildCheckpointFailed(e, _keyText, childKey);
            Stop("the initial checkpoint of a split's new shard could not be written; reloading to write it again");
        }
        finally
        {
            _childCheckpointWrites--;
        }
    }
}
