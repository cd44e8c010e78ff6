using Storage.Raft;
using Storage.StateMachine;

namespace Storage.Shards;

// Writes: propose the command and wait until it is applied (or report its outcome unknown).
public sealed partial class ShardReplicaGrain
{
    public async Task<WriteResult> Write(byte[] command, long mapVersion)
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

        KeyValidator.Validate(cmd, _limits);
        EnsureRunning();
        CheckOwnership(cmd.Key, mapVersion);
        var proposal = _node.Propose(command);
        if (!proposal.IsAccepted)
        {
            throw new NotLeaderException(_keyText, proposal.Outcome == ProposeOutcome.NotLeader ? proposal.Leader : 0);
        }

        var done = new TaskCompletionSource<KvApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingWrites[proposal.Index] = (proposal.Term, done);
        Pump();
        KvApplyResult result;
        try
        {
            result = await done.Task.WaitAsync(_options.OperationTimeout);
        }
        catch (TimeoutException)
        {
            _pendingWrites.Remove(proposal.Index);
            throw new ShardBusyException($"write to shard {_key.Shard} not confirmed within {_options.OperationTimeout.TotalSeconds:0.#} s; its outcome is unknown");
        }

        return result.ToWriteResult(cmd.Key);
    }
}
