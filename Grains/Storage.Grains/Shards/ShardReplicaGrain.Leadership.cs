using Storage.Raft;

namespace Storage.Shards;

// Leadership moves: hand-off on shutdown, leader balancing, relocation, explicit transfer.
public sealed partial class ShardReplicaGrain
{
    public async Task<bool> HandOffLeadership()
    {
        if (_stopped || _node.Role != RaftRole.Leader)
        {
            return false;
        }

        var status = _node.Status();
        var target = status.Progress
            .Where(p => p.Key != _key.Replica && _node.Conf.IsVoter(p.Key))
            .OrderByDescending(p => p.Value.Match)
            .Select(p => p.Key)
            .FirstOrDefault();
        if (target == 0 || !_node.TransferLeadership(target))
        {
            return false;
        }

        Pump();
        var deadline = DateTime.UtcNow + _options.TickInterval * _options.ElectionTicks * 2;
        while (_node.Role == RaftRole.Leader && DateTime.UtcNow < deadline)
        {
            await Task.Delay(_options.TickInterval);
        }

        var moved = _node.Role != RaftRole.Leader;
        if (moved)
        {
            _metrics.Handoffs.Add(1);
            LogHandedOff(_keyText, target);
        }

        return moved;
    }

    public Task<bool> PreferLeader(long preferredReplica)
    {
        if (_stopped || _node.Role != RaftRole.Leader || preferredReplica == _key.Replica || !_node.Conf.IsVoter(preferredReplica))
        {
            return Task.FromResult(false);
        }

        var status = _node.Status();
        if (!status.Progress.TryGetValue(preferredReplica, out var progress) || progress.Match != status.LastIndex || !progress.RecentActive)
        {
            return Task.FromResult(false);
        }

        var started = _node.TransferLeadership(preferredReplica);
        Pump();
        return Task.FromResult(started);
    }

    public async Task Relocate(long mapVersion)
    {
        if (_stopped)
        {
            return;
        }

        // The placement director on this silo places by this silo's cached map: it must hold the assignment the
        // caller acted on, or it would call the move off.
        if ((_maps.Current?.Version ?? 0) < mapVersion)
        {
            await _maps.GetAsync(refresh: true);
        }

        var home = _maps.Current?.FindShard(_key.Shard)?.Replicas.FirstOrDefault(r => r.ReplicaId == _key.Replica)?.SiloKey;
        if (home is null || home == _siloKey || _stopped)
        {
            return; // already there, or no longer in the map
        }

        if (_node.Role == RaftRole.Leader)
        {
            await HandOffLeadership();
        }

        // A migration, not a deactivation: Orleans places the new activation and registers it in the grain
        // directory in place of this one, so calls routed by stale caches to this silo are forwarded home. After a
        // plain deactivation the next such call re-created the replica right here, and it never got home. The
        // director sees the request context captured here and calls the move off unless it can place the replica
        // on its home silo.
        LogRelocating(_keyText, _siloKey);
        RequestContext.Set(ReplicaPlacementDirector.RelocationKey, true);
        try
        {
            MigrateOnIdle();
        }
        finally
        {
            RequestContext.Remove(ReplicaPlacementDirector.RelocationKey);
        }
    }

    public Task<bool> TransferLeadership(long targetReplica)
    {
        EnsureRunning();
        var started = _node.TransferLeadership(targetReplica);
        Pump();
        return Task.FromResult(started);
    }
}
