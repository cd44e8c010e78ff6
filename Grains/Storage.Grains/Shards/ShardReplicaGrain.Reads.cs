using Storage.StateMachine;

namespace Storage.Shards;

// Reads: linearizable under the leader's lease or after a ReadIndex round; otherwise from the local state.
public sealed partial class ShardReplicaGrain
{
    public async Task<GetResult> Read(string key, ReadConsistency consistency)
    {
        KeyValidator.ValidateKey(key, _limits);
        if (consistency == ReadConsistency.Linearizable && !CanReadUnderLease())
        {
            await ConfirmReadIndexAsync();
        }
        else
        {
            EnsureRunning();
        }

        return _machine.Get(key);
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

        return _machine.Scan(prefix, continueAfter, limit);
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
