using Storage.Raft;

namespace Storage.Shards;

// Membership changes, asked for by the directory one at a time: add a learner, promote it, remove a replica; the
// leader's view of its group; and retiring a replica that was removed from its group and from the shard map.
public sealed partial class ShardReplicaGrain
{
    // Callers waiting until the entry at an index is applied, with the term they expect there (another term: the entry
    // they wait for was replaced and never applied).
    private readonly Dictionary<long, (long Term, TaskCompletionSource<bool> Done)> _pendingMembership = new();

    public async Task<ReplicaGroupView> ChangeMembership(MembershipChangeKind kind, long replicaId)
    {
        if (!Enum.IsDefined(kind) || replicaId < 1)
        {
            throw new InvalidRequestException($"shard {_key.Shard}: '{kind}' of replica {replicaId} is not a membership change");
        }

        EnsureRunning();
        if (_node.Role != RaftRole.Leader)
        {
            throw new NotLeaderException(_keyText, _node.Leader);
        }

        if (kind == MembershipChangeKind.Remove && replicaId == _key.Replica)
        {
            // A leader does not propose its own removal: it hands leadership over, and the caller asks the new leader
            // (which keeps serving while this replica leaves, instead of an election after it stepped down).
            if (await HandOffLeadership())
            {
                throw new NotLeaderException(_keyText, _node.Leader);
            }

            throw new ShardBusyException($"replica {_keyText} leads shard {_key.Shard} and could not hand leadership to another voter yet; retry");
        }

        var conf = _node.Conf;
        if (InEffect(kind, replicaId, conf))
        {
            // Proposed before (a retried request, or one from a new directory activation): answer once it is committed.
            // Everything up to the last index is, then; a leader's last entry is always of its own term.
            await WaitAppliedAsync(_node.LastIndex, _node.Term);
            return View();
        }

        var change = new ConfChange(
            kind switch
            {
                MembershipChangeKind.AddLearner => ConfChangeType.AddLearner,
                MembershipChangeKind.Promote => ConfChangeType.AddVoter,
                _ => ConfChangeType.RemoveNode,
            },
            replicaId);
        string? reason = null;
        if (kind == MembershipChangeKind.Promote && !conf.IsLearner(replicaId))
        {
            reason = $"replica {replicaId} is not a learner (add it as one and let it catch up first)";
        }
        else if (change.ApplyTo(conf, out var invalid) is null)
        {
            reason = invalid;
        }

        if (reason is not null)
        {
            throw new InvalidRequestException($"shard {_key.Shard} ({conf}): cannot {kind} replica {replicaId}: {reason}");
        }

        var proposal = _node.ProposeConfChange(change);
        if (!proposal.IsAccepted)
        {
            throw proposal.Outcome == ProposeOutcome.NotLeader
                ? new NotLeaderException(_keyText, proposal.Leader)
                : new ShardBusyException($"shard {_key.Shard}: membership change not accepted now ({proposal.Reason ?? proposal.Outcome.ToString()}); retry");
        }

        LogMembershipProposed(_keyText, kind.ToString(), replicaId, proposal.Index);
        await WaitAppliedAsync(proposal.Index, proposal.Term);
        LogMembershipChanged(_keyText, kind.ToString(), replicaId, _node.Conf.ToString());
        return View();
    }

    public Task<ReplicaGroupView> GetMembership()
    {
        EnsureRunning();
        return Task.FromResult(View());
    }

    public async Task Retire(ShardMap map)
    {
        // The directory drops a replica from the map only after its removal from the group committed; the map is what
        // this replica can check (it may never have received the entry that removed it).
        ArgumentNullException.ThrowIfNull(map);
        _maps.Update(map);
        if (!IsRemoved(map))
        {
            throw new InvalidRequestException($"replica {_keyText} is still in shard map version {map.Version}: remove it from its group and the map first");
        }

        Stop("removed from its group");
        await DeleteDurableStateAsync();
        LogRetired(_keyText, map.Version);
    }

    /// <summary>
    /// Replica ids are never reused and a replica is added to its shard in the same map version that allocates its id,
    /// so a shard that does not list an id below <see cref="ShardMap.NextReplicaId"/> removed that replica for good,
    /// in every later version too (even a stale cached map answers this rightly). A shard the map does not know yet
    /// (a split not yet published) removed nothing.
    /// </summary>
    private bool IsRemoved(ShardMap map) =>
        map.FindShard(_key.Shard) is { } shard
        && _key.Replica < map.NextReplicaId
        && !shard.Replicas.Any(r => r.ReplicaId == _key.Replica);

    /// <summary>
    /// Deletes the replica's log and hard state (fencing every incarnation, so no activation that is still running can
    /// write again) and its checkpoint.
    /// </summary>
    private async Task DeleteDurableStateAsync()
    {
        await _store.DeleteReplicaAsync(_keyText);
        await _checkpoint.ReadStateAsync();
        if (_checkpoint.State.Index > 0)
        {
            await _checkpoint.ClearStateAsync();
        }
    }

    private static bool InEffect(MembershipChangeKind kind, long replica, ConfState conf) => kind switch
    {
        MembershipChangeKind.AddLearner => conf.IsMember(replica),
        MembershipChangeKind.Promote => conf.IsVoter(replica),
        _ => !conf.IsMember(replica),
    };

    private ReplicaGroupView View()
    {
        var committed = _node.ConfStateAt(_node.CommitIndex);
        var leading = _node.Role == RaftRole.Leader;
        IReadOnlyDictionary<long, long> match = leading
            ? _node.Status().Progress.ToDictionary(p => p.Key, p => p.Value.Match)
            : new Dictionary<long, long>();
        return new ReplicaGroupView(
            _key.Replica,
            leading,
            _node.Leader,
            _node.Term,
            _node.CommitIndex,
            _node.LastIndex,
            committed.Voters.ToArray(),
            committed.Learners.ToArray(),
            match,
            _node.FirstIndex);
    }

    /// <summary>Waits until the entry at <paramref name="index"/> is applied with <paramref name="term"/>.</summary>
    private async Task WaitAppliedAsync(long index, long term)
    {
        if (_machine.AppliedIndex >= index)
        {
            return;
        }

        if (!_pendingMembership.TryGetValue(index, out var waiting) || waiting.Term != term)
        {
            // An earlier waiter at this index expected another term: its entry was replaced.
            waiting.Done?.TrySetException(new NotLeaderException(_keyText, _node.Leader));
            waiting = (term, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
            _pendingMembership[index] = waiting;
        }

        Pump();
        try
        {
            await waiting.Done.Task.WaitAsync(_options.OperationTimeout);
        }
        catch (TimeoutException)
        {
            if (_pendingMembership.TryGetValue(index, out var current) && current.Done == waiting.Done)
            {
                _pendingMembership.Remove(index);
            }

            throw new ShardBusyException($"membership change on shard {_key.Shard} not confirmed within {_options.OperationTimeout.TotalSeconds:0.#} s; its outcome is unknown");
        }
    }

    /// <summary>Called for every applied entry: answers whoever waits for its index.</summary>
    private void ReleaseMembershipWaiter(Entry entry)
    {
        if (_pendingMembership.Count == 0 || !_pendingMembership.Remove(entry.Index, out var waiting))
        {
            return;
        }

        if (waiting.Term == entry.Term)
        {
            waiting.Done.TrySetResult(true);
        }
        else
        {
            waiting.Done.TrySetException(new NotLeaderException(_keyText, _node.Leader));
        }
    }
}
