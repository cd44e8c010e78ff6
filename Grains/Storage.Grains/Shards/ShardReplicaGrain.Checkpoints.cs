using Orleans.Storage;
using Storage.Persistence;
using Storage.Raft;

namespace Storage.Shards;

// Checkpoints: snapshot the state machine to grain storage every N entries or M bytes, then truncate the log.
public sealed partial class ShardReplicaGrain
{
    private void MaybeCheckpoint()
    {
        // A split's child checkpoints must be durable before this replica's own checkpoint passes the split entry:
        // a restart then re-applies the split and writes them again.
        if (_stopped || _checkpointInFlight || _childCheckpointWrites > 0)
        {
            return;
        }

        var applied = _machine.AppliedIndex;
        if (applied - _lastCheckpointIndex < _options.CheckpointEntries && _bytesSinceCheckpoint < _options.CheckpointBytes)
        {
            return;
        }

        _ = CheckpointAsync(applied);
    }

    private async Task CheckpointAsync(long index)
    {
        _checkpointInFlight = true;
        try
        {
            if (!_log.TryGetTerm(index, out var term))
            {
                return;
            }

            var conf = _node.ConfStateAt(index);
            var data = _machine.CreateSnapshot();
            await SaveCheckpointAsync(index, term, conf, data);
            if (_stopped)
            {
                return;
            }

            _log.Compact(index, conf, data);
            await WriteOrStopAsync(new ReplicaLogWrite(_keyText, _incarnation, null, Array.Empty<Entry>(), index));
            _lastCheckpointIndex = index;
            _bytesSinceCheckpoint = 0;
            _metrics.Checkpoints.Add(1);
            LogCheckpointed(_keyText, index, data.Length);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCheckpointFailed(e, _keyText, index);
        }
        finally
        {
            _checkpointInFlight = false;
        }
    }

    private async Task SaveCheckpointAsync(long index, long term, ConfState conf, byte[] data)
    {
        if (_checkpoint.State.Index >= index)
        {
            return;
        }

        _checkpoint.State = new ReplicaCheckpoint
        {
            Index = index,
            Term = term,
            Voters = conf.Voters.ToArray(),
            Learners = conf.Learners.ToArray(),
            Data = data,
        };
        try
        {
            await _checkpoint.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation wrote meanwhile: take its version, and only overwrite an older checkpoint.
            await _checkpoint.ReadStateAsync();
            if (_checkpoint.State.Index < index)
            {
                _checkpoint.State = new ReplicaCheckpoint { Index = index, Term = term, Voters = conf.Voters.ToArray(), Learners = conf.Learners.ToArray(), Data = data };
                await _checkpoint.WriteStateAsync();
            }
        }
    }
}
