using Storage.StateMachine;

namespace Storage.Shards;

// Reads: linearizable under the leader's lease or after a ReadIndex round; otherwise from the local state.
public sealed partial class ShardReplicaGrain
{
    public async Task<GetResult> Read(string key, ReadConsistency consistency, long mapVersion)
    {
        KeyValidator.ValidateKey(key, _limits);
        await WaitUntilReadableAsync(consistency);

        // Checked on the state the read is answered from: a split applied meanwhile moved the key away.
        CheckOwnership(key, mapVersion);
        return _machine.Get(key);
    }

    public async Task<ScanPage> Scan(string prefix, string? continueAfter, int limit, ReadConsistency consistency, long mapVersion, ulong rangeStart, ulong rangeEnd)
    {
        await WaitUntilReadableAsync(consistency);

        // A replica split by a map the caller has not seen answers for less than the caller thinks: it must not
        // return a page that silently lacks the new shard's keys.
        CheckOwnership(null, mapVersion);
        if (_machine.RangeVersion > 0 && (_machine.RangeStart != rangeStart || _machine.RangeEnd != rangeEnd))
        {
            // The caller's map gives this shard another range than the one it holds: one of the two has not caught up
            // with a split yet, and a page from here could miss keys or repeat another shard's.
            throw new WrongShardException(_machine.RangeVersion);
        }

        return _machine.Scan(prefix, continueAfter, limit, rangeStart, rangeEnd);
    }

    private async Task WaitUntilReadableAsync(ReadConsistency consistency)
    {
        if (consistency == ReadConsistency.Linearizable && !CanReadUnderLease())
        {
            await ConfirmReadIndexAsync();
        }
        else
        {
            EnsureRunning();
        }

        // A replica that has applied nothing (a new shard's replica still waiting for its first state from its
        // leader) has no state any replica of the shard ever had: not even an eventual read may be answered from it.
        if (_machine.AppliedIndex == 0)
        {
            throw new ShardBusyException($"replica {_keyText} has no state yet");
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
        if (!_options.LeaseReads || _faultHooks.IsPaused(_keyText))
        {
            return false;
        }

        if (CatchUpTicks())
        {
            Pump();
        }

        return !_stopped && _node.TryLeaseRead(out var index) && _machine.AppliedIndex >= index;
    }

    private async Task ConfirmReadIndexAsync()
    {
        EnsureRunning();
        var context = ++_readSequence;
        if (!_node.ReadIndex(context))
        {
            throw new NotLeaderException(_keyText, 0);
        }

        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingReadIndex[context] = done;
        Pump();
        try
        {
            await done.Task.WaitAsync(_options.OperationTimeout);
        }
        catch (TimeoutException)
        {
            _pendingReadIndex.Remove(context);
            throw new ShardBusyException($"read on shard {_key.Shard} not confirmed by a quorum within {_options.OperationTimeout.TotalSeconds:0.#} s");
        }
    }
}
