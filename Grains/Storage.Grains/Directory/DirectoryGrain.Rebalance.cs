using Orleans.Storage;
using Storage.Shards;

namespace Storage.Directory;

// The rebalancer (one per cluster: the directory's single activation): observes membership and drains, sees moves
// finish, and moves the map toward its target one persisted step at a time.
public sealed partial class DirectoryGrain
{
    /// <summary>When each silo the map names was last seen leave (in memory: a new activation starts every grace anew).</summary>
    private readonly Dictionary<string, DateTime> _absentSince = new(StringComparer.Ordinal);

    /// <summary>When each move in flight was last asked for (in memory; a new activation asks again).</summary>
    private readonly Dictionary<(int Shard, long Replica), DateTime> _askedAt = new();

    public async Task Joined(string silo)
    {
        await _gate.WaitAsync();
        try
        {
            await LoadAsync();
            if (_state.State.Drains.RemoveAll(d => d.Silo == silo && d.Leaving) > 0)
            {
                await PersistAsync();
                LogUndrained(silo);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task OnRebalanceTimer(CancellationToken ct) => RebalanceOnceAsync();

    /// <summary>
    /// One pass. Skipped while another pass or a state change holds the gate: the next tick comes soon. Every decision
    /// is written to grain storage before any replica is asked to act on it; a write that loses to another activation
    /// (ETag) drops the step and re-reads.
    /// </summary>
    internal async Task RebalanceOnceAsync()
    {
        if (!await _gate.WaitAsync(0))
        {
            return;
        }

        try
        {
            await LoadAsync();
            await StepMembershipChangesAsync();
            if (_state.State.Map is not { } map)
            {
                return;
            }

            var now = DateTime.UtcNow;
            var active = ObserveSilos(map, now);
            var dirty = UpdateGivenUp(active, now);
            dirty |= EndLeavingDrainsOfDeadSilos(map, active);
            dirty |= await FinishMovesAsync(active, now);

            // Splits first (they publish their own map); the next pass plans moves over the map they leave.
            if (await MaybeSplitAsync())
            {
                if (dirty)
                {
                    await PersistAsync();
                }

                return;
            }

            var silos = PlacementSilos(active);
            var busy = _state.State.Moves.Select(m => m.ShardId).Concat(SplitBusyShards()).ToHashSet();

            // A silo briefly away (inside its grace period) keeps its replicas, which stand in elsewhere meanwhile, and
            // must get nothing new: its shards are left alone, and the planner, seeing their replicas on a silo it
            // may not use, holds every other move back until the silo returns or is given up (only moves that cannot
            // land would otherwise be planned). Preferred leaders of the other shards may still change.
            foreach (var shard in map.Shards)
            {
                if (shard.Replicas.Any(r => !active.ContainsKey(r.SiloKey) && !_state.State.GivenUp.Contains(r.SiloKey)))
                {
                    busy.Add(shard.ShardId);
                }
            }
            var room = _options.MaxMovesInFlight - _state.State.Moves.Count;
            var plan = RebalancePlanner.Plan(map, silos, new RebalanceLimits(Math.Max(0, room), busy));
            _metrics.MapVersion = map.Version;
            _metrics.MovesInFlight = _state.State.Moves.Count;
            if (plan.IsEmpty)
            {
                if (dirty)
                {
                    await PersistAsync();
                }

                return;
            }

            var next = plan.ApplyTo(map, silos);
            _state.State.Map = next;
            foreach (var move in plan.Moves)
            {
                _state.State.Moves.Add(new ReplicaMove(move.ShardId, move.ReplicaId, move.From, move.To, MoveKind.Relocate, next.Version, now));
            }

            await PersistAsync();
            _metrics.MapVersion = next.Version;
            _metrics.MovesPlanned.Add(plan.Moves.Count);
            _metrics.MovesInFlight = _state.State.Moves.Count;
            LogPlanned(next.Version, plan.Moves.Count, plan.PreferredLeaders.Count, string.Join(", ", plan.Moves.Select(m => $"{m.ShardId}/{m.ReplicaId} {m.From}→{m.To}")));
            foreach (var move in plan.Moves)
            {
                AskToMove(move.ShardId, move.ReplicaId, next.Version, now);
            }
        }
        catch (InconsistentStateException)
        {
            // Another activation of the directory wrote meanwhile (a brief duplicate): take its state, act on nothing.
            _loaded = false;
        }
        catch (Exception e)
        {
            LogPassFailed(e.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The active silos by name (newest generation), with region and zone; tracks when mapped silos left.</summary>
    private Dictionary<string, SiloInfo> ObserveSilos(ShardMap map, DateTime now)
    {
        var active = ActiveSilos().ToDictionary(s => s.SiloKey, StringComparer.Ordinal);
        foreach (var silo in active.Values)
        {
            _absentSince.Remove(silo.SiloKey);
        }

        foreach (var name in map.Shards.SelectMany(s => s.Replicas).Select(r => r.SiloKey).Distinct())
        {
            if (!active.ContainsKey(name))
            {
                _absentSince.TryAdd(name, now);
            }
        }

        return active;
    }

    /// <summary>The silos placement may use: the active ones, drained ones with weight 0 (to be emptied).</summary>
    private List<SiloInfo> PlacementSilos(Dictionary<string, SiloInfo> active) =>
        active.Values
            .Select(silo => IsDraining(silo.SiloKey) ? silo with { Weight = 0 } : silo)
            .OrderBy(s => s.SiloKey, StringComparer.Ordinal)
            .ToList();

    private List<string> GivenUpSilos() => _state.State.GivenUp.OrderBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>Records silos past their grace period (before the plan that re-places their replicas) and forgets returned ones.</summary>
    private bool UpdateGivenUp(Dictionary<string, SiloInfo> active, DateTime now)
    {
        var changed = _state.State.GivenUp.RemoveAll(active.ContainsKey) > 0;
        foreach (var (name, since) in _absentSince)
        {
            if (now - since >= _options.GiveUpAfter && !_state.State.GivenUp.Contains(name))
            {
                _state.State.GivenUp.Add(name);
                LogGivenUp(name, (now - since).TotalSeconds);
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>A leaving drain of a silo that is gone and holds nothing is over: the name may come back as a new silo.</summary>
    private bool EndLeavingDrainsOfDeadSilos(ShardMap map, Dictionary<string, SiloInfo> active) =>
        _state.State.Drains.RemoveAll(d =>
            d.Leaving
            && !active.ContainsKey(d.Silo)
            && !map.Shards.Any(s => s.Replicas.Any(r => r.SiloKey == d.Silo))
            && !_state.State.Moves.Any(m => m.From == d.Silo)) > 0;

    /// <summary>
    /// Moves in flight: done once the replica reports itself on its new silo; dropped when that silo is no longer
    /// active (the next plan places the replica again); asked again after <see cref="DirectoryOptions.MoveRetryAfter"/>.
    /// </summary>
    private async Task<bool> FinishMovesAsync(Dictionary<string, SiloInfo> active, DateTime now)
    {
        if (_state.State.Moves.Count == 0)
        {
            return false;
        }

        var map = _state.State.Map!;
        var checks = await Task.WhenAll(_state.State.Moves.Select(async move =>
        {
            if (move.Kind != MoveKind.Relocate)
            {
                return (move, Done: false, Dropped: false);
            }

            var stillMapped = map.FindShard(move.ShardId)?.Replicas.Any(r => r.ReplicaId == move.ReplicaId && r.SiloKey == move.To) == true;
            if (!stillMapped || !active.ContainsKey(move.To))
            {
                return (move, Done: false, Dropped: true);
            }

            try
            {
                var status = await GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaKey(move.ShardId, move.ReplicaId).ToString())
                    .GetStatus().WaitAsync(TimeSpan.FromSeconds(3));
                return (move, Done: status.Silo == move.To && status.Role != "Stopped", Dropped: false);
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or StorageException)
            {
                return (move, Done: false, Dropped: false);
            }
        }));

        var changed = false;
        foreach (var (move, done, dropped) in checks)
        {
            if (done || dropped)
            {
                _state.State.Moves.Remove(move);
                _askedAt.Remove((move.ShardId, move.ReplicaId));
                changed = true;
                if (done)
                {
                    _state.State.MovesMade++;
                    _metrics.MovesMade.Add(1);
                    LogMoveDone(move.ShardId, move.ReplicaId, move.To, (now - move.StartedAt).TotalSeconds);
                }
                else
                {
                    LogMoveDropped(move.ShardId, move.ReplicaId, move.To);
                }
            }
            else if (move.Kind == MoveKind.Relocate
                && (!_askedAt.TryGetValue((move.ShardId, move.ReplicaId), out var asked) || now - asked >= _options.MoveRetryAfter))
            {
                AskToMove(move.ShardId, move.ReplicaId, move.MapVersion, now);
            }
        }

        return changed;
    }

    /// <summary>
    /// Asks the replica to go to the silo the map (at least <paramref name="mapVersion"/>) assigns it. Not awaited: the
    /// replica hands off leadership and migrates when idle; the next passes see where it landed.
    /// </summary>
    private void AskToMove(int shard, long replica, long mapVersion, DateTime now)
    {
        _askedAt[(shard, replica)] = now;
        var grain = GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaKey(shard, replica).ToString());
        _ = grain.Relocate(mapVersion).WaitAsync(TimeSpan.FromSeconds(15)).ContinueWith(
            t => LogAskFailed(shard, replica, t.Exception?.GetBaseException().Message ?? ""),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
    }
}
