using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Storage.Shards;
using Storage.StateMachine;

namespace Storage.Directory;

// Splits: an operator's or the load's; one at a time, persisted before the parent is asked, published once applied.
public sealed partial class DirectoryGrain
{
    private readonly Dictionary<int, DateTime> _lastSplitAt = new();
    private readonly Dictionary<int, LoadSample> _loadSamples = new();

    public async Task<long> Split(int shardId, ulong? splitAt)
    {
        await _gate.WaitAsync();
        try
        {
            return await SplitCoreAsync(shardId, splitAt);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<long> SplitCoreAsync(int shardId, ulong? splitAt)
    {
        await LoadAsync();
        var map = _state.State.Map ?? await CreateMapAsync()
            ?? throw new ShardUnavailableException("the cluster is still starting: no shard map yet");
        CheckSplitRequest(map, shardId, splitAt);

        // One split at a time: an unfinished one (a directory restarted mid-split, a timed-out apply) goes first.
        if (_state.State.PendingSplit is not null)
        {
            await FinishPendingSplitAsync();
            map = _state.State.Map!;
            CheckSplitRequest(map, shardId, splitAt);
        }

        var shard = map.FindShard(shardId)!;
        var point = splitAt ?? await ChooseSplitPointAsync(shard, byLoad: false);
        return await SplitAtAsync(shard, point, "an operator");
    }

    /// <summary>
    /// Shards the rebalancer must not move now: the parent and the new shard of a split persisted and not yet
    /// published (the split command names the parent's replicas; a move would make the parent refuse it).
    /// </summary>
    public IEnumerable<int> SplitBusyShards()
    {
        if (_state.State.PendingSplit is not { } pending)
        {
            return Array.Empty<int>();
        }

        return new[] { pending.ShardId, KvCommandCodec.DecodeSplit(pending.Command).NewShardId };
    }

    /// <summary>
    /// One pass of automatic splitting, called by the rebalancer loop: finishes a pending split, else splits at most one
    /// shard whose leader reports more data than <see cref="DirectoryOptions.SplitSizeBytes"/> (at the point that
    /// halves its keys) or a write rate above <see cref="DirectoryOptions.SplitWritesPerSecond"/> for
    /// <see cref="DirectoryOptions.SplitLoadWindow"/> (at the point that halves its recent writes); each shard at most
    /// once per <see cref="DirectoryOptions.SplitCooldown"/>. Failures are logged and retried on a later pass (a lost
    /// ETag race, <see cref="InconsistentStateException"/>, is left to the caller). Call it holding <see cref="_gate"/>.
    /// True when it published a new map.
    /// </summary>
    internal async Task<bool> MaybeSplitAsync()
    {
        await LoadAsync();
        try
        {
            if (_state.State.PendingSplit is not null)
            {
                await FinishPendingSplitAsync();
                return true;
            }

            if (!_options.AutoSplit || _state.State.Map is not { } map)
            {
                return false;
            }

            var now = DateTime.UtcNow;
            var leaders = await Task.WhenAll(map.Shards.Select(async s => (Shard: s, Status: await LeaderStatusAsync(s))));
            foreach (var (shard, status) in leaders)
            {
                if (status is null || SplitCoolingDown(shard.ShardId, now) || _state.State.Moves.Any(m => m.ShardId == shard.ShardId))
                {
                    continue;
                }

                var byLoad = SustainedLoad(shard.ShardId, status, now);
                if (status.DataBytes < _options.SplitSizeBytes && !byLoad)
                {
                    continue;
                }

                var point = await ChooseSplitPointAsync(shard, byLoad && status.DataBytes < _options.SplitSizeBytes);
                await SplitAtAsync(shard, point, status.DataBytes >= _options.SplitSizeBytes ? $"its size ({status.DataBytes} bytes)" : "its sustained write rate");
                return true;
            }
        }
        catch (Exception e) when (e is not InconsistentStateException && (e is StorageException or TimeoutException or OrleansException))
        {
            LogSplitPassFailed(e.Message);
        }

        return false;
    }

    private static void CheckSplitRequest(ShardMap map, int shardId, ulong? splitAt)
    {
        var shard = map.FindShard(shardId)
            ?? throw new InvalidRequestException($"unknown shard {shardId}: shard map version {map.Version} has shards {string.Join(", ", map.Shards.Select(s => s.ShardId))}");
        if (shard.RangeStart == shard.RangeEnd)
        {
            throw new InvalidRequestException($"shard {shardId} owns a single hash and cannot be split");
        }

        if (splitAt is { } at && (at <= shard.RangeStart || at > shard.RangeEnd))
        {
            throw new InvalidRequestException(
                $"split point {at:x16} is outside shard {shardId}: it must be above {shard.RangeStart:x16} and at most {shard.RangeEnd:x16}");
        }
    }

    private async Task<long> SplitAtAsync(ShardInfo shard, ulong point, string why)
    {
        var map = _state.State.Map!;
        if (_state.State.Moves.Any(m => m.ShardId == shard.ShardId))
        {
            throw new ShardBusyException($"shard {shard.ShardId} has replica moves in flight; split it when they are done");
        }

        var target = ShardMapBuilder.Split(map, shard.ShardId, point);
        var child = target.Shards.Single(s => map.FindShard(s.ShardId) is null);
        var command = new SplitCommand(
            shard.RangeStart,
            shard.RangeEnd,
            point,
            child.ShardId,
            target.Version,
            shard.Replicas.Select(r => r.ReplicaId).ToArray(),
            child.Replicas.Select(r => r.ReplicaId).ToArray());

        // Persisted before the parent sees it. The new replica ids are reserved in the current map (same version) so
        // that no other change hands them out while the split is pending.
        _state.State.PendingSplit = new PendingSplit(shard.ShardId, point, KvCommandCodec.EncodeSplit(command), target, DateTime.UtcNow);
        _state.State.Map = map with { NextReplicaId = target.NextReplicaId };
        await PersistAsync();
        LogSplitStarted(shard.ShardId, point, child.ShardId, target.Version, why);
        return await FinishPendingSplitAsync();
    }

    /// <summary>
    /// Asks the parent's leader to apply the pending split (again: a re-proposal is answered "already split") and then
    /// publishes the new map and clears the pending split in one write. A split the parent refuses is dropped.
    /// </summary>
    private async Task<long> FinishPendingSplitAsync()
    {
        var pending = _state.State.PendingSplit!;
        var command = KvCommandCodec.DecodeSplit(pending.Command);
        var map = _state.State.Map!;
        if (map.FindShard(command.NewShardId) is not null)
        {
            // Published already (the pending record is cleared in the same write; kept only by hand-edited state).
            _state.State.PendingSplit = null;
            await PersistAsync();
            return map.Version;
        }

        var parent = map.FindShard(pending.ShardId)
            ?? throw new InvalidOperationException($"pending split of shard {pending.ShardId}, which the map no longer has");
        SplitOutcome outcome;
        try
        {
            outcome = await ProposeAtLeaderAsync(parent, pending.Command);
        }
        catch (InvalidRequestException e)
        {
            _state.State.PendingSplit = null;
            await PersistAsync();
            LogSplitRefused(pending.ShardId, e.Message);
            throw;
        }

        var published = Rebase(map, pending, command);
        _state.State.Map = published;
        _state.State.PendingSplit = null;
        await PersistAsync();

        var now = DateTime.UtcNow;
        _lastSplitAt[pending.ShardId] = now;
        _lastSplitAt[command.NewShardId] = now;
        _loadSamples.Remove(pending.ShardId);
        LogSplitPublished(pending.ShardId, command.NewShardId, published.Version, outcome.Index, outcome.AlreadySplit);

        // Wake the new shard's replicas now rather than at the keepers' next pass.
        foreach (var replica in published.FindShard(command.NewShardId)!.Replicas)
        {
            _ = GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaKey(command.NewShardId, replica.ReplicaId).ToString()).Ensure()
                .ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        }

        return published.Version;
    }

    /// <summary>
    /// The map to publish: the split applied to the current map. That is the pending target itself unless another
    /// change was published meanwhile; then the split is laid over that change with the next version (the parent's
    /// replicas answer <see cref="WrongShardException"/> to requests routed by the in-between map until this one arrives).
    /// </summary>
    private static ShardMap Rebase(ShardMap current, PendingSplit pending, SplitCommand command)
    {
        var child = pending.Target.FindShard(command.NewShardId)!;
        var shards = current.Shards
            .Select(s => s.ShardId == pending.ShardId ? s with { RangeEnd = command.SplitAt - 1 } : s)
            .Append(child)
            .OrderBy(s => s.RangeStart)
            .ToArray();
        var map = new ShardMap(
            Math.Max(current.Version + 1, pending.Target.Version),
            shards,
            Math.Max(current.NextReplicaId, pending.Target.NextReplicaId));
        map.Validate();
        return map;
    }

    /// <summary>Proposes the split at the parent's leader, following NotLeader hints, within <see cref="DirectoryOptions.SplitApplyTimeout"/>.</summary>
    private async Task<SplitOutcome> ProposeAtLeaderAsync(ShardInfo parent, byte[] command)
    {
        var deadline = DateTime.UtcNow + _options.SplitApplyTimeout;
        var replicas = parent.Replicas.Select(r => r.ReplicaId).ToList();
        var next = 0;
        long hinted = 0;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var target = hinted != 0 ? hinted : replicas[next++ % replicas.Count];
            hinted = 0;
            try
            {
                return await GrainFactory.GetGrain<IShardReplicaGrain>(parent.ReplicaKey(target)).ProposeSplit(command)
                    .WaitAsync(_options.SplitApplyTimeout);
            }
            catch (NotLeaderException e)
            {
                last = e;
                hinted = e.Leader != target && replicas.Contains(e.Leader) ? e.Leader : 0;
                if (hinted != 0)
                {
                    continue;
                }
            }
            catch (Exception e) when (TransientErrors.IsTransientInCluster(e))
            {
                last = e;
            }

            await Task.Delay(100);
        }

        throw new ShardBusyException(
            $"shard {parent.ShardId} did not apply the split within {_options.SplitApplyTimeout.TotalSeconds:0.#} s (last: {last?.Message ?? "no answer"}); " +
            "the split stays pending and is finished by the next split request or rebalancer pass");
    }

    private async Task<ulong> ChooseSplitPointAsync(ShardInfo shard, bool byLoad)
    {
        ulong? point = null;
        foreach (var replica in await LeaderFirstAsync(shard))
        {
            try
            {
                point = await GrainFactory.GetGrain<IShardReplicaGrain>(shard.ReplicaKey(replica)).SplitPoint(shard.RangeStart, shard.RangeEnd, byLoad)
                    .WaitAsync(TimeSpan.FromSeconds(5));
                break;
            }
            catch (Exception e) when (TransientErrors.IsTransientInCluster(e))
            {
                // Another replica's copy of the keys is as good for choosing a point.
            }
        }

        // Fewer than two distinct key hashes: halve the hash range instead.
        return point ?? shard.RangeStart + ((shard.RangeEnd - shard.RangeStart) / 2) + 1;
    }

    private async Task<IReadOnlyList<long>> LeaderFirstAsync(ShardInfo shard)
    {
        var leader = await LeaderStatusAsync(shard);
        return shard.Replicas.Select(r => r.ReplicaId).OrderBy(id => id == leader?.ReplicaId ? 0 : 1).ToList();
    }

    /// <summary>The status of the shard's leader (highest term), or null if none answered as leader.</summary>
    private async Task<ReplicaStatus?> LeaderStatusAsync(ShardInfo shard)
    {
        var statuses = await Task.WhenAll(shard.Replicas.Select(async r =>
        {
            try
            {
                return await GrainFactory.GetGrain<IShardReplicaGrain>(shard.ReplicaKey(r.ReplicaId)).GetStatus().WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (TransientErrors.IsTransientInCluster(e))
            {
                return null;
            }
        }));
        return statuses.Where(s => s is { Role: "Leader" }).OrderByDescending(s => s!.Term).FirstOrDefault();
    }

    private bool SplitCoolingDown(int shardId, DateTime now) =>
        _lastSplitAt.TryGetValue(shardId, out var at) && now - at < _options.SplitCooldown;

    /// <summary>Samples the leader's applied-write counter; true once its rate stayed above the threshold for the whole window.</summary>
    private bool SustainedLoad(int shardId, ReplicaStatus leader, DateTime now)
    {
        if (!_loadSamples.TryGetValue(shardId, out var previous) || previous.ReplicaId != leader.ReplicaId || leader.WritesApplied < previous.Writes || now <= previous.At)
        {
            // A new leader counts from its own start: begin again.
            _loadSamples[shardId] = new LoadSample(leader.ReplicaId, leader.WritesApplied, now, null);
            return false;
        }

        var rate = (leader.WritesApplied - previous.Writes) / (now - previous.At).TotalSeconds;
        var aboveSince = rate > _options.SplitWritesPerSecond ? previous.AboveSince ?? previous.At : (DateTime?)null;
        _loadSamples[shardId] = new LoadSample(leader.ReplicaId, leader.WritesApplied, now, aboveSince);
        return aboveSince is { } since && now - since >= _options.SplitLoadWindow;
    }

    private readonly record struct LoadSample(long ReplicaId, long Writes, DateTime At, DateTime? AboveSince);

    [LoggerMessage(Level = LogLevel.Information, Message = "Splitting shard {Shard} at {SplitAt:x16} into new shard {Child} (map version {Version}), asked by {Why}")]
    private partial void LogSplitStarted(int shard, ulong splitAt, int child, long version, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Split of shard {Shard} published: new shard {Child}, map version {Version} (applied at index {Index}, re-proposal {Again})")]
    private partial void LogSplitPublished(int shard, int child, long version, long index, bool again);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard {Shard} refused its split; dropped: {Reason}")]
    private partial void LogSplitRefused(int shard, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Automatic split pass failed (retried next pass): {Reason}")]
    private partial void LogSplitPassFailed(string reason);
}
