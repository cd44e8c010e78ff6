using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Storage.Shards;

namespace Storage.Directory;

// Replacements and replication-factor changes: Raft membership changes driven one persisted step at a time
// (MembershipChangeSteps decides, this executes). The directory talks to the shard's replica grains here.
public sealed partial class DirectoryGrain
{
    // Steps one change may take in one pass before the next change gets its turn (each is persisted or idempotent).
    private const int StepsPerPass = 8;

    // Every replica call of a pass is bounded: a replica that activates may read the map from here, and while this
    // activation is being deactivated those reads wait for the pass to end.
    private static readonly TimeSpan ReplicaQueryTimeout = TimeSpan.FromSeconds(3);

    // A membership change answers within the replica's operation timeout (5 s by default), or not at all.
    private static readonly TimeSpan ReplicaChangeTimeout = TimeSpan.FromSeconds(15);

    public async Task<long> ReplaceReplica(int shardId, long replicaId, string silo)
    {
        await _gate.WaitAsync();
        try
        {
            return await ReplaceReplicaCoreAsync(shardId, replicaId, silo);
        }
        catch (InconsistentStateException)
        {
            _loaded = false; // another activation wrote: re-read on the next use
            throw new ShardBusyException("the directory's state changed meanwhile (another activation wrote it); nothing was changed, retry");
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<long> ReplaceReplicaCoreAsync(int shardId, long replicaId, string silo)
    {
        await LoadAsync();
        var map = _state.State.Map
            ?? throw new ShardUnavailableException("the cluster is still starting: no shard map yet (waiting for enough silos to join)");
        var shard = map.FindShard(shardId)
            ?? throw new InvalidRequestException($"unknown shard {shardId} (shard map version {map.Version})");
        var replica = shard.Replicas.FirstOrDefault(r => r.ReplicaId == replicaId)
            ?? throw new InvalidRequestException($"shard {shardId} has no replica {replicaId} (shard map version {map.Version})");
        if (_state.State.MembershipChanges.FirstOrDefault(c => c.ShardId == shardId) is { } running)
        {
            if (running.Reason == MembershipChangeReason.Replace && running.Leaving == replicaId && running.TargetSilo == silo)
            {
                return running.Joining; // the same request again (a retry): it is under way
            }

            throw new InvalidRequestException($"shard {shardId} has a membership change in progress ({Describe(running)}); one at a time");
        }

        if (_state.State.Moves.Any(m => m.ShardId == shardId))
        {
            throw new InvalidRequestException($"shard {shardId} has a replica move in progress; one at a time");
        }

        if (replica.Role != ReplicaRole.Voter)
        {
            throw new InvalidRequestException($"replica {replicaId} of shard {shardId} is a learner, not a voter");
        }

        var target = ActiveSilos().FirstOrDefault(s => s.SiloKey == silo);
        if (string.IsNullOrWhiteSpace(silo) || target is null)
        {
            throw new InvalidRequestException($"unknown silo '{silo}': name an active silo of this cluster (see storage status)");
        }

        if (IsDraining(silo))
        {
            throw new InvalidRequestException($"silo '{silo}' is being drained: it takes no replicas");
        }

        if (shard.Replicas.Any(r => r.SiloKey == silo))
        {
            throw new InvalidRequestException($"silo '{silo}' already holds a replica of shard {shardId}");
        }

        var change = await StartChangeAsync(map, shardId, target, replicaId, replica.SiloKey, MembershipChangeReason.Replace);
        return change.Joining;
    }

    /// <summary>
    /// One pass over membership changes, called by the rebalancer pass with <see cref="_gate"/> held: starts
    /// replication-factor changes for shards whose voter count differs from <see cref="DirectoryOptions.ReplicationFactor"/>
    /// (within <see cref="DirectoryOptions.MaxMovesInFlight"/>, one change per shard), then advances every change in
    /// progress by the steps it can take now. A failing step is logged and tried again on the next pass; a write that
    /// lost to another activation (<see cref="InconsistentStateException"/>) ends the pass for the caller to re-read.
    /// </summary>
    private async Task StepMembershipChangesAsync()
    {
        await LoadAsync();
        if (_state.State.Map is null)
        {
            return;
        }

        try
        {
            await StartReplicationFactorChangesAsync();
        }
        catch (Exception e) when (e is not InconsistentStateException)
        {
            LogReplicationFactorFailed(e.GetType().Name, e.Message);
        }

        foreach (var change in _state.State.MembershipChanges.ToList())
        {
            try
            {
                await AdvanceAsync(change);
            }
            catch (Exception e) when (e is not InconsistentStateException)
            {
                LogMembershipStepFailed(change.ShardId, Describe(change), e.GetType().Name, e.Message);
            }
        }
    }

    private async Task StartReplicationFactorChangesAsync()
    {
        var map = _state.State.Map!;
        var silos = ActiveSilos().Select(s => IsDraining(s.SiloKey) ? s with { Weight = 0 } : s).ToList();
        var usable = silos.Where(s => s.Weight > 0).Select(s => s.SiloKey).ToHashSet(StringComparer.Ordinal);
        foreach (var shard in map.Shards)
        {
            if (_state.State.Moves.Count >= _options.MaxMovesInFlight)
            {
                return;
            }

            if (_state.State.MembershipChanges.Any(c => c.ShardId == shard.ShardId) || _state.State.Moves.Any(m => m.ShardId == shard.ShardId))
            {
                continue;
            }

            var voters = shard.Replicas.Count(r => r.Role == ReplicaRole.Voter);
            if (voters < _options.ReplicationFactor)
            {
                if (RebalancePlanner.ChooseSilo(map, shard.ShardId, silos) is { } target && target.Weight > 0)
                {
                    await StartChangeAsync(map, shard.ShardId, target, 0, "", MembershipChangeReason.ReplicationFactor);
                    map = _state.State.Map!;
                }
            }
            else if (voters > _options.ReplicationFactor && MembershipChoices.ChooseLeaving(shard, usable) is var leaving and > 0)
            {
                var from = shard.Replicas.First(r => r.ReplicaId == leaving).SiloKey;
                await StartChangeAsync(map, shard.ShardId, null, leaving, from, MembershipChangeReason.ReplicationFactor);
            }
        }
    }

    /// <summary>
    /// Records a change (and its move, for status) before anything is done: with a replica joining on
    /// <paramref name="target"/>, in the same write as the map version that adds it as a learner.
    /// </summary>
    private async Task<MembershipChange> StartChangeAsync(ShardMap map, int shardId, SiloInfo? target, long leaving, string from, MembershipChangeReason reason)
    {
        var now = DateTime.UtcNow;
        long joining = 0;
        var newMap = map;
        if (target is not null)
        {
            (newMap, joining) = MembershipChangeSteps.WithLearner(map, shardId, target);
        }

        var change = new MembershipChange(shardId, joining, leaving, target?.SiloKey ?? "", reason, now);
        _state.State.Map = newMap;
        _state.State.MembershipChanges.Add(change);
        _state.State.Moves.Add(new ReplicaMove(shardId, leaving != 0 ? leaving : joining, from, target?.SiloKey ?? "", MoveKind.Replace, newMap.Version, now));
        await PersistAsync();
        _maps.Update(newMap);
        LogMembershipChangeStarted(shardId, Describe(change), newMap.Version);
        return change;
    }

    private async Task AdvanceAsync(MembershipChange change)
    {
        for (var i = 0; i < StepsPerPass; i++)
        {
            var leader = await FindLeaderAsync(_state.State.Map!, change.ShardId);
            var step = MembershipChangeSteps.Next(change, _state.State.Map!, leader);
            LogMembershipStep(change.ShardId, Describe(change), step.ToString());
            switch (step.Kind)
            {
                case MembershipStepKind.Wait:
                    return;
                case MembershipStepKind.AddLearner:
                    // Activated from here first, where the map that places it on its silo is current (the leader's
                    // silo may not have that version yet when its first message activates the replica).
                    await Replica(change.ShardId, step.Replica).Ensure().WaitAsync(ReplicaQueryTimeout);
                    await Leader(change.ShardId, leader!).ChangeMembership(MembershipChangeKind.AddLearner, step.Replica).WaitAsync(ReplicaChangeTimeout);
                    break;
                case MembershipStepKind.RecordCatchUp:
                    change = await SaveChangeAsync(change, change with { CatchUpTo = step.Index });
                    break;
                case MembershipStepKind.Promote:
                    await Leader(change.ShardId, leader!).ChangeMembership(MembershipChangeKind.Promote, step.Replica).WaitAsync(ReplicaChangeTimeout);
                    break;
                case MembershipStepKind.TransferLeadership:
                    await Leader(change.ShardId, leader!).TransferLeadership(step.Replica).WaitAsync(ReplicaQueryTimeout);
                    return; // the new leader is asked on the next pass
                case MembershipStepKind.Remove:
                    await Leader(change.ShardId, leader!).ChangeMembership(MembershipChangeKind.Remove, step.Replica).WaitAsync(ReplicaChangeTimeout);
                    break;
                case MembershipStepKind.UpdateMap:
                    _state.State.Map = step.Map!;
                    await PersistAsync();
                    _maps.Update(step.Map!);
                    break;
                case MembershipStepKind.Retire:
                    try
                    {
                        await Replica(change.ShardId, step.Replica).Retire(_state.State.Map!).WaitAsync(ReplicaChangeTimeout);
                    }
                    catch (ReplicaRemovedException)
                    {
                        // It was not active: its activation found itself removed and retired.
                    }

                    await FinishChangeAsync(change, "done");
                    return;
                case MembershipStepKind.Finish:
                    await FinishChangeAsync(change, step.Reason);
                    return;
            }
        }
    }

    /// <summary>The leader among the shard's voters (the one reporting itself leader in the highest term), or null.</summary>
    private async Task<ReplicaGroupView?> FindLeaderAsync(ShardMap map, int shardId)
    {
        var shard = map.FindShard(shardId);
        if (shard is null)
        {
            return null;
        }

        var views = await Task.WhenAll(shard.Replicas.Where(r => r.Role == ReplicaRole.Voter).Select(async r =>
        {
            try
            {
                return await Replica(shardId, r.ReplicaId).GetMembership().WaitAsync(ReplicaQueryTimeout);
            }
            catch (Exception e) when (e is StorageException || TransientErrors.IsTransientInCluster(e))
            {
                return null;
            }
        }));
        return views.Where(v => v is { IsLeader: true }).OrderByDescending(v => v!.Term).FirstOrDefault();
    }

    private async Task<MembershipChange> SaveChangeAsync(MembershipChange old, MembershipChange updated)
    {
        var changes = _state.State.MembershipChanges;
        changes[changes.IndexOf(old)] = updated;
        await PersistAsync();
        return updated;
    }

    private async Task FinishChangeAsync(MembershipChange change, string how)
    {
        _state.State.MembershipChanges.Remove(change);
        var moved = change.Leaving != 0 ? change.Leaving : change.Joining;
        _state.State.Moves.RemoveAll(m => m.Kind == MoveKind.Replace && m.ShardId == change.ShardId && m.ReplicaId == moved);
        await PersistAsync();
        LogMembershipChangeFinished(change.ShardId, Describe(change), how, (DateTime.UtcNow - change.StartedAt).TotalSeconds);
    }

    private IShardReplicaGrain Replica(int shardId, long replicaId) =>
        GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaKey(shardId, replicaId).ToString());

    private IShardReplicaGrain Leader(int shardId, ReplicaGroupView leader) => Replica(shardId, leader.ReplicaId);

    private static string Describe(MembershipChange c) => (c.Joining, c.Leaving) switch
    {
        (0, var leaving) => $"remove replica {leaving} ({c.Reason})",
        (var joining, 0) => $"add replica {joining} on {c.TargetSilo} ({c.Reason})",
        var (joining, leaving) => $"replace replica {leaving} with {joining} on {c.TargetSilo} ({c.Reason})",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard}: started membership change: {Change} (map version {Version})")]
    private partial void LogMembershipChangeStarted(int shard, string change, long version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shard {Shard}: {Change}: {Step}")]
    private partial void LogMembershipStep(int shard, string change, string step);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard}: membership change finished: {Change}: {How} after {Seconds:0.0} s")]
    private partial void LogMembershipChangeFinished(int shard, string change, string how, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard}: membership change step failed ({Change}), retried on the next pass: {Error}: {Reason}")]
    private partial void LogMembershipStepFailed(int shard, string change, string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Starting replication-factor changes failed, retried on the next pass: {Error}: {Reason}")]
    private partial void LogReplicationFactorFailed(string error, string reason);
}
