using System.Buffers.Binary;
using System.Text;
using Storage.Raft.Tests.BrokenVariants;

namespace Storage.Raft.Tests.Simulation;

/// <summary>Knobs of one simulated run.</summary>
public sealed record SimulationOptions
{
    public int Voters { get; init; } = 3;
    public int ChaosSteps { get; init; } = 5000;
    public int Phases { get; init; } = 2;
    public double DropRate { get; init; } = 0.05;
    public double DuplicateRate { get; init; } = 0.03;
    public bool MembershipChanges { get; init; } = true;
    public bool LeaseReads { get; init; }

    /// <summary>Scales the rate of partitions, heals and crashes (1 = default).</summary>
    public double FaultIntensity { get; init; } = 1;

    /// <summary>Null: chosen per seed.</summary>
    public bool? PreVote { get; init; }

    /// <summary>Null: chosen per seed (always on with lease reads).</summary>
    public bool? CheckQuorum { get; init; }

    /// <summary>
    /// <see cref="RaftConfig.QuiesceAfterTicks"/> of every node; 0 (the default) leaves quiescence off and the schedule
    /// exactly as without it. On, the schedule adds idle stretches (only deliveries, persistence, ticks and faults) long
    /// enough for the group to quiesce, the host ticks only nodes that are not quiesced, and it wakes the quiesced
    /// followers of a node that crashes (<see cref="RaftNode.Wake"/>).
    /// </summary>
    public int QuiesceAfterTicks { get; init; }

    internal RaftFaults Faults { get; init; }
}

/// <summary>The outcome of one seeded run.</summary>
public sealed record SimulationResult(int Seed, long Steps, string? Failure, int Acknowledged, int Reads, int Crashes, int Partitions, int ConfChanges, int Snapshots, int Quiesces = 0, int LeaderQuiesces = 0, int Wakes = 0)
{
    public bool Passed => Failure is null;
}

/// <summary>
/// A deterministic simulator of one Raft group. A seeded schedule drops, duplicates and reorders
/// messages, partitions nodes (symmetric and one-way), crashes nodes (losing what was not persisted, or
/// not) and restarts them from what was persisted, and drives proposals, reads, membership changes,
/// leadership transfers and compaction. After every step it checks Election Safety, Leader Append-Only,
/// Log Matching, Leader Completeness and State Machine Safety (and, with lease reads, lease safety); after healing it
/// checks liveness. Reads are checked for linearizability as they are served.
/// </summary>
public sealed class Simulator
{
    private const int ElectionTick = 10;
    private readonly SimulationOptions _options;
    private readonly int _seed;
    private readonly Random _rng;
    private readonly SortedDictionary<long, SimNode> _nodes = new();
    private readonly List<Message> _network = new();
    private readonly HashSet<(long From, long To)> _blocked = new();

    // Global knowledge for invariant checks.
    private readonly Dictionary<long, long> _leaderOfTerm = new();
    private readonly Dictionary<(long Index, long Term), (ulong Data, long PrevTerm)> _entriesSeen = new();
    private readonly Dictionary<long, long> _committedTerm = new();
    private readonly Dictionary<long, ulong> _appliedHash = new();
    private readonly Dictionary<long, (long Node, long Index, long Term)> _pendingProposals = new();
    private readonly HashSet<long> _acknowledged = new();
    private long _maxAcknowledgedIndex;
    private long _maxCommitted;
    private long _maxLeaderTerm;

    private readonly long _maxSizePerMsg;
    private SimNode? _recentCommitter;
    private long _recentCommitStep;
    private readonly bool _preVote;
    private readonly bool _checkQuorum;
    private long _nextNodeId;
    private long _nextPayload = 1;
    private long _nextReadContext = 1;
    private long _steps;
    private int _crashes;
    private int _partitions;
    private int _confChanges;
    private int _snapshots;
    private int _reads;
    private int _quiesces;
    private int _leaderQuiesces;
    private int _wakes;
    private int _idleStepsLeft;
    private bool _chaos = true;
    private string? _failure;
    private readonly Queue<string>? _trace;

    public Simulator(int seed, SimulationOptions options)
    {
        _seed = seed;
        _options = options;
        _rng = new Random(seed);
        _trace = SimulationBudget.IsReplay ? new Queue<string>() : null;

        // Some seeds send one entry per append (so followers acknowledge logs piecemeal), others batch.
        _maxSizePerMsg = new long[] { 1, 100, 256, 4096 }[_rng.Next(4)];

        // The core must be safe with and without PreVote and CheckQuorum (leases need CheckQuorum).
        _preVote = options.PreVote ?? _rng.Next(4) != 0;
        _checkQuorum = options.LeaseReads || (options.CheckQuorum ?? _rng.Next(4) != 0);
        var voters = Enumerable.Range(1, options.Voters).Select(i => (long)i).ToList();
        foreach (var id in voters)
        {
            _nodes[id] = new SimNode(id, MemoryRaftLog.Bootstrap(voters));
            Start(_nodes[id]);
        }

        _nextNodeId = options.Voters + 1;
    }

    public static SimulationResult Run(int seed, SimulationOptions options) => new Simulator(seed, options).Run();

    public SimulationResult Run()
    {
        try
        {
            for (var phase = 0; phase < _options.Phases && _failure is null; phase++)
            {
                _chaos = true;
                for (var i = 0; i < _options.ChaosSteps && _failure is null; i++)
                {
                    ChaosStep();
                }

                if (_failure is null)
                {
                    HealAndCheckLiveness();
                }
            }
        }
        catch (RaftSafetyException e)
        {
            _failure ??= $"node safety check: {e.Message}";
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException or FormatException)
        {
            _failure ??= $"unexpected {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
        }

        return new SimulationResult(_seed, _steps, _failure, _acknowledged.Count, _reads, _crashes, _partitions, _confChanges, _snapshots, _quiesces, _leaderQuiesces, _wakes);
    }

    // ---------------------------------------------------------------- schedule

    private bool Quiescence => _options.QuiesceAfterTicks > 0;

    private void ChaosStep()
    {
        if (Quiescence)
        {
            if (_idleStepsLeft > 0)
            {
                IdleStep();
                return;
            }

            if (_rng.Next(400) == 0)
            {
                // Long enough for the leader to see every member caught up and count its idle ticks.
                _idleStepsLeft = 150 + _rng.Next(300);
            }
        }

        _steps++;
        var roll = _rng.NextDouble() * (100 + 3 * _options.FaultIntensity);
        if ((roll -= 40) < 0)
        {
            DeliverOne();
        }
        else if ((roll -= 20) < 0)
        {
            CompletePersist(RandomNode(x => x.Outstanding is not null));
        }
        else if ((roll -= 16) < 0)
        {
            TickSomething();
        }
        else if ((roll -= 10) < 0)
        {
            ProposeSomewhere();
        }
        else if ((roll -= 4) < 0)
        {
            ReadSomewhere();
        }
        else if ((roll -= 3) < 0)
        {
            CompactSomewhere();
        }
        else if ((roll -= 2) < 0)
        {
            var n = RandomNode(x => x.Node is null);
            if (n is not null)
            {
                Start(n);
            }
        }
        else if ((roll -= 1.2) < 0)
        {
            ChangeMembership();
        }
        else if ((roll -= 0.8) < 0)
        {
            var leader = CurrentLeader();
            var target = RandomNode(x => x.Node is not null && leader is not null && leader.Node!.Conf.IsVoter(x.Id) && x.Id != leader.Id);
            if (leader is not null && target is not null)
            {
                Input(leader, r => r.TransferLeadership(target.Id));
            }
        }
        else if ((roll -= 0.6 * _options.FaultIntensity) < 0)
        {
            Partition();
        }
        else if ((roll -= 0.6 * _options.FaultIntensity) < 0)
        {
            _blocked.Clear();
        }
        else if ((roll -= 0.4 * _options.FaultIntensity) < 0)
        {
            // Leaders are the most interesting victims: half the crashes hit the current one.
            var n = _rng.Next(2) == 0 ? CurrentLeader() : RandomNode(x => x.Node is not null);
            if (n is not null)
            {
                Crash(n, loseUnpersisted: _rng.Next(2) == 0);
            }
        }
        else if ((roll -= 0.4 * _options.FaultIntensity) < 0)
        {
            // The worst moment: a leader that has just advanced its commit index, before the news spreads (this is
            // what exposes committing an old term's entry by counting replicas, the Raft paper's figure 8).
            if (_recentCommitter is { Node: not null } n && _steps - _recentCommitStep <= 3)
            {
                Crash(n, loseUnpersisted: _rng.Next(2) == 0);
            }
        }
    }

    /// <summary>
    /// A step of an idle stretch: no membership changes, transfers or compactions and few proposals and reads (so the
    /// group can quiesce), but messages still move and faults still happen (a quiesced leader may crash or be cut off).
    /// The rare request goes to any replica, not mostly to the leader: a stray request is what wakes a follower cut
    /// off from its quiesced leader, which then campaigns.
    /// </summary>
    private void IdleStep()
    {

        _steps++;
        _idleStepsLeft--;
        var roll = _rng.NextDouble() * (102 + 2 * _options.FaultIntensity);
        if ((roll -= 45) < 0)
        {
            DeliverOne();
        }
        else if ((roll -= 20) < 0)
        {
            CompletePersist(RandomNode(x => x.Outstanding is not null));
        }
        else if ((roll -= 35) < 0)
        {
            TickSomething();
        }
        else if ((roll -= 1) < 0)
        {
            ReadAt(RandomNode(x => x.Node is not null));
        }
        else if ((roll -= 1) < 0)
        {
            ProposeAt(RandomNode(x => x.Node is not null));
        }
        else if ((roll -= 0.8 * _options.FaultIntensity) < 0)
        {
            var n = _rng.Next(2) == 0 ? CurrentLeader() : RandomNode(x => x.Node is not null);
            if (n is not null)
            {
                Crash(n, loseUnpersisted: _rng.Next(2) == 0);
            }
        }
        else if ((roll -= 0.6 * _options.FaultIntensity) < 0)
        {
            Partition();
        }
        else
        {
            _blocked.Clear();
        }
    }

    /// <summary>The host's ticker: it ticks only nodes that are not quiesced (which is what quiescence is for).</summary>
    private void TickSomething()
    {
        if (_options.LeaseReads)
        {
            // Lease reads are only correct with bounded drift: tick every node together.
            foreach (var n in _nodes.Values.Where(n => n.Node is { IsQuiesced: false }).ToList())
            {
                Input(n, r => r.Tick());
            }
        }
        else
        {
            var n = RandomNode(x => x.Node is { IsQuiesced: false });
            if (n is not null)
            {
                Input(n, r => r.Tick());
            }
        }
    }

    private void HealAndCheckLiveness()
    {
        _chaos = false;
        _blocked.Clear();
        foreach (var n in _nodes.Values.Where(n => n.Node is null ).ToList())
        {
            Start(n);
        }

        // A leader that all voters follow within a bounded number of rounds.
        SimNode? leader = null;
        var maxRounds = 40 * ElectionTick;
        for (var round = 0; round < maxRounds && _failure is null; round++)
        {
            SyncRound();
            leader = StableLeader();
            if (leader is not null)
            {
                break;
            }

            if (Quiescence)
            {
                // A quiesced group wakes only on work: model a client whose read reaches some replica (a quiesced
                // follower may still follow a leader deposed while it was cut off, and nothing else would wake it).
                ReadSomewhere();
            }
        }

        if (_failure is not null)
        {
            return;
        }

        if (leader is null)
        {
            Fail($"liveness: no stable leader within {maxRounds} rounds after healing");
            return;
        }

        // Every acknowledged write, and a barrier after them, must reach every member.
        long barrierIndex = 0;
        for (var round = 0; round < maxRounds && _failure is null; round++)
        {
            leader = StableLeader() ?? leader;
            if (barrierIndex == 0 && leader.Node is { Role: RaftRole.Leader } ln)
            {
                var r = ln.Propose(Payload(_nextPayload++));
                if (r.IsAccepted)
                {
                    barrierIndex = r.Index;
                }

                Pump(leader);
            }

            SyncRound();
            var members = leader.Node?.Conf.Members.ToList() ?? new List<long>();
            if (barrierIndex > 0 && members.All(id => _nodes[id].Machine.Applied >= barrierIndex))
            {
                foreach (var id in members)
                {
                    var applied = _nodes[id].Machine;
                    if (applied.Applied < _maxAcknowledgedIndex)
                    {
                        Fail($"liveness: node {id} applied {applied.Applied} < acknowledged {_maxAcknowledgedIndex}");
                    }
                }

                return;
            }

            if (leader.Node?.Role != RaftRole.Leader)
            {
                barrierIndex = 0;
            }
        }

        Fail($"liveness: barrier {barrierIndex} not applied by every member within {maxRounds} rounds " +
             $"({string.Join(", ", _nodes.Values.Select(n => $"{n.Id}:applied={n.Machine.Applied},up={n.Node is not null}"))})");
    }

    /// <summary>A synchronous round on a healed network: persist, deliver everything, tick everyone.</summary>
    private void SyncRound()
    {
        foreach (var n in _nodes.Values.ToList())
        {
            while (n.Outstanding is not null)
            {
                CompletePersist(n);
            }
        }

        var batch = _network.ToList();
        _network.Clear();
        Shuffle(batch);
        foreach (var m in batch)
        {
            Deliver(m);
        }

        foreach (var n in _nodes.Values.Where(n => n.Node is { IsQuiesced: false }).ToList())
        {
            Input(n, r => r.Tick());
        }

        _steps++;
    }

    private SimNode? StableLeader()
    {
        var leader = CurrentLeader();
        if (leader?.Node is not { } ln || !ln.Conf.IsVoter(ln.Id))
        {
            return null;
        }

        foreach (var id in ln.Conf.Voters)
        {
            var n = _nodes[id].Node;
            if (n is null || n.Leader != ln.Id || n.Term != ln.Term)
            {
                return null;
            }
        }

        return leader;
    }

    // ---------------------------------------------------------------- actions

    private void ProposeSomewhere() => ProposeAt(_rng.NextDouble() < 0.8 ? CurrentLeader() : RandomNode(x => x.Node is not null));

    private void ProposeAt(SimNode? n)
    {
        if (n?.Node is null)
        {
            return;
        }

        var payload = _nextPayload++;
        var result = n.Node.Propose(Payload(payload));
        if (result.IsAccepted)
        {
            _pendingProposals[payload] = (n.Id, result.Index, result.Term);
        }

        Pump(n);
    }

    private void ReadSomewhere() => ReadAt(_rng.NextDouble() < 0.7 ? CurrentLeader() : RandomNode(x => x.Node is not null));

    private void ReadAt(SimNode? n)
    {
        if (n?.Node is null)
        {
            return;
        }

        var ctx = _nextReadContext++;
        if (n.Node.ReadIndex(ctx))
        {
            // Linearizability of reads: the read point must cover every write acknowledged before it began.
            n.PendingReads[ctx] = _maxAcknowledgedIndex;
        }

        Pump(n);
    }

    private void CompactSomewhere()
    {
        var n = RandomNode(x => x.Node is not null && x.Machine.Applied - x.Storage.FirstIndex > 8);
        if (n?.Node is null)
        {
            return;
        }

        var index = Math.Min(n.Machine.Applied, n.Storage.LastIndex);
        if (index <= n.Storage.Snapshot.Index)
        {
            return;
        }

        n.Storage.Compact(index, n.Node.ConfStateAt(index), n.Machine.SnapshotData());
        _snapshots++;
    }

    private void ChangeMembership()
    {
        var leader = CurrentLeader();
        if (leader?.Node is not { } ln)
        {
            return;
        }

        var conf = ln.Conf;
        var minVoters = Math.Max(1, _options.Voters - 1);
        var maxVoters = _options.Voters + 1;
        var choices = new List<ConfChange>();
        if (_nodes.Count < _options.Voters + 4)
        {
            choices.Add(new ConfChange(ConfChangeType.AddLearner, _nextNodeId));
        }

        foreach (var learner in conf.Learners)
        {
            if (conf.Voters.Count < maxVoters)
            {
                choices.Add(new ConfChange(ConfChangeType.AddVoter, learner));
            }

            choices.Add(new ConfChange(ConfChangeType.RemoveNode, learner));
        }

        if (conf.Voters.Count > minVoters)
        {
            foreach (var voter in conf.Voters)
            {
                choices.Add(new ConfChange(ConfChangeType.RemoveNode, voter));
            }
        }

        if (choices.Count == 0 || !_options.MembershipChanges)
        {
            return;
        }

        var change = choices[_rng.Next(choices.Count)];
        var result = ln.ProposeConfChange(change);
        Trace($"conf change {change} at {ln.Id}: {result.Outcome}");
        if (result.IsAccepted)
        {
            _confChanges++;
            if (change.Type == ConfChangeType.AddLearner)
            {
                // A brand-new replica: empty log, knows nothing of the group until the leader tells it.
                var fresh = new SimNode(change.NodeId, new MemoryRaftLog(Snapshot.Initial(ConfState.Empty)));
                _nodes[fresh.Id] = fresh;
                _nextNodeId++;
                Start(fresh);
            }
        }

        Pump(leader);
    }

    private void Partition()
    {
        _partitions++;
        Trace("partition");
        var ids = _nodes.Keys.ToList();
        if (_rng.Next(3) == 0)
        {
            // One-way: a single link stops delivering in one direction.
            var a = ids[_rng.Next(ids.Count)];
            var b = ids[_rng.Next(ids.Count)];
            if (a != b)
            {
                _blocked.Add((a, b));
            }

            return;
        }

        _blocked.Clear();
        var side = ids.Where(_ => _rng.Next(2) == 0).ToHashSet();
        if (_rng.Next(2) == 0 && CurrentLeader() is { } leader)
        {
            // Isolate the leader, alone or with a minority.
            side = new HashSet<long> { leader.Id };
        }

        foreach (var a in ids)
        {
            foreach (var b in ids)
            {
                if (side.Contains(a) != side.Contains(b))
                {
                    _blocked.Add((a, b));
                }
            }
        }
    }

    private void Crash(SimNode n, bool loseUnpersisted)
    {
        _crashes++;
        Trace($"crash {n.Id} lose={loseUnpersisted}");
        if (!loseUnpersisted)
        {
            while (n.Outstanding is not null)
            {
                CompletePersist(n);
            }
        }

        n.Node = null;
        n.Outstanding = null;
        n.PendingReads.Clear();
        n.ReadyReads.Clear();
        n.LeaderSince = null;
        n.WasQuiesced = false;
        if (Quiescence)
        {
            // The host's rule (RaftNode.Wake): learning that a replica is gone, wake the quiesced replicas following it.
            foreach (var other in _nodes.Values.Where(x => x.Node is { IsQuiesced: true } r && r.Leader == n.Id).ToList())
            {
                Trace($"host wakes {other.Id}: its leader {n.Id} crashed");
                Input(other, r => r.Wake());
            }
        }
    }

    private void Start(SimNode n)
    {
        Trace($"start {n.Id} storage first={n.Storage.FirstIndex} last={n.Storage.LastIndex} hs={n.Storage.HardState}");
        var machine = SimStateMachine.Restore(n.Storage.Snapshot);
        n.Machine = machine;
        var config = new RaftConfig
        {
            Id = n.Id,
            ElectionTick = ElectionTick,
            HeartbeatTick = 1,
            MaxSizePerMsg = _maxSizePerMsg,
            PreVote = _preVote,
            CheckQuorum = _checkQuorum,
            MaxInflightMsgs = 8,
            ReadOnlyOption = _options.LeaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
            MaxClockDriftTicks = 1,
            Applied = machine.Applied,
            QuiesceAfterTicks = _options.QuiesceAfterTicks,
        };
        n.Node = new TestRaftNode(config, n.Storage, new Random(_rng.Next()), _options.Faults);
        n.SeenCommit = n.Node.CommitIndex;
        n.LeaderSince = null;
        n.WasQuiesced = false;
        Check(n);
    }

    // ---------------------------------------------------------------- the application loop

    private void Input(SimNode n, Action<RaftNode> input)
    {
        if (n.Node is null)
        {
            return;
        }

        input(n.Node);
        Pump(n);
    }

    /// <summary>Takes a Ready if none is outstanding: early messages leave now, the rest waits for "disk".</summary>
    private void Pump(SimNode n)
    {
        while (n.Node is { } node && n.Outstanding is null && node.TakeReady() is { } ready)
        {
            n.Outstanding = ready;
            if (ready.Entries.Count > 0)
            {
                CheckLogMatching(node, ready.Entries);
            }

            foreach (var m in ready.Messages)
            {
                Send(m);
            }

            if (ready.MustPersist && _chaos)
            {
                break; // persisted later, by a separate step: a crash in between loses it
            }

            CompletePersist(n);
        }

        Check(n);
    }

    private void CompletePersist(SimNode? n)
    {
        if (n?.Node is not { } node || n.Outstanding is not { } ready)
        {
            return;
        }

        Trace($"persist {n.Id}: hs={ready.HardState} entries=[{string.Join(' ', ready.Entries.Select(e => $"{e.Index}t{e.Term}"))}] snap={ready.Snapshot?.Index} apply={ready.CommittedEntries.Count} late={ready.PersistedMessages.Count}");
        if (ready.Snapshot is { } snap)
        {
            n.Storage.ApplySnapshot(snap);
        }

        n.Storage.Append(ready.Entries);
        if (ready.HardState is { } hs)
        {
            // As the replica grain does: a new commit index alone is not written, so a crash may forget it.
            n.Storage.SetHardState(hs);
        }

        foreach (var m in ready.PersistedMessages)
        {
            Send(m);
        }

        if (ready.Snapshot is { } s)
        {
            n.Machine = SimStateMachine.Restore(s);
            CheckAppliedHash(n, s.Index);
        }

        foreach (var e in ready.CommittedEntries)
        {
            Apply(n, e);
        }

        foreach (var rs in ready.ReadStates)
        {
            n.ReadyReads.Add(rs);
        }

        n.Outstanding = null;
        node.Advance(ready);
        ReleaseReads(n);
        Pump(n);
    }

    private void Apply(SimNode n, Entry e)
    {
        if (e.Index != n.Machine.Applied + 1)
        {
            Fail($"state machine safety: node {n.Id} applied {e.Index} after {n.Machine.Applied}");
            return;
        }

        if (_committedTerm.TryGetValue(e.Index, out var t) && t != e.Term)
        {
            Fail($"state machine safety: node {n.Id} applied ({e.Index},t{e.Term}) but ({e.Index},t{t}) was committed");
            return;
        }

        n.Machine.Apply(e);
        CheckAppliedHash(n, e.Index);
        if (e.Type == EntryType.Normal && e.Data.Length == 8)
        {
            var payload = BinaryPrimitives.ReadInt64LittleEndian(e.Data);
            if (_pendingProposals.TryGetValue(payload, out var p) && p.Node == n.Id)
            {
                if (p.Index != e.Index || p.Term != e.Term)
                {
                    Fail($"proposal {payload} accepted at ({p.Index},t{p.Term}) applied at ({e.Index},t{e.Term})");
                    return;
                }

                _pendingProposals.Remove(payload);
                _acknowledged.Add(payload);
                _maxAcknowledgedIndex = Math.Max(_maxAcknowledgedIndex, e.Index);
            }
        }
    }

    private void CheckAppliedHash(SimNode n, long index)
    {
        var hash = n.Machine.Hash;
        if (_appliedHash.TryGetValue(index, out var expected))
        {
            if (expected != hash)
            {
                Fail($"state machine safety: node {n.Id} state after {index} differs from another node's");
            }
        }
        else
        {
            _appliedHash[index] = hash;
        }
    }

    private void ReleaseReads(SimNode n)
    {
        for (var i = n.ReadyReads.Count - 1; i >= 0; i--)
        {
            var rs = n.ReadyReads[i];
            if (n.Machine.Applied < rs.Index)
            {
                continue;
            }

            n.ReadyReads.RemoveAt(i);
            if (n.PendingReads.Remove(rs.Context, out var mustCover))
            {
                _reads++;
                if (rs.Index < mustCover)
                {
                    Fail($"linearizable read on node {n.Id} at index {rs.Index} misses acknowledged write at {mustCover}");
                }
            }
        }
    }

    private void Send(Message m)
    {
        if (_chaos && _rng.NextDouble() < _options.DropRate)
        {
            return;
        }

        _network.Add(m);
        if (_chaos && _rng.NextDouble() < _options.DuplicateRate)
        {
            _network.Add(m);
        }
    }

    private void DeliverOne()
    {
        if (_network.Count == 0)
        {
            return;
        }

        // Picking any in-flight message is what reorders and delays them.
        var i = _rng.Next(_network.Count);
        var m = _network[i];
        _network[i] = _network[^1];
        _network.RemoveAt(_network.Count - 1);
        Deliver(m);
    }

    private void Deliver(Message m)
    {
        if (_blocked.Contains((m.From, m.To)) || !_nodes.TryGetValue(m.To, out var n) || n.Node is null)
        {
            return;
        }

        Trace($"deliver {m}" + (m.Entries.Count > 0 ? $" [{string.Join(' ', m.Entries.Select(e => $"{e.Index}t{e.Term}"))}]" : ""));
        Input(n, r => r.Step(m));
    }

    // ---------------------------------------------------------------- invariants

    /// <summary>
    /// Log Matching: an entry at an (index, term) is the same on every node, after the same previous term. Entries
    /// are seen as the node hands them over to be persisted (<see cref="Ready.Entries"/>).
    /// </summary>
    private void CheckLogMatching(TestRaftNode node, IReadOnlyList<Entry> entries)
    {
        var prevTerm = node.LogTermAt(entries[0].Index - 1);
        foreach (var e in entries)
        {
            var data = Hash(e.Data) ^ (ulong)e.Type;
            if (_entriesSeen.TryGetValue((e.Index, e.Term), out var seen))
            {
                if (seen.Data != data || seen.PrevTerm != prevTerm)
                {
                    Fail($"log matching: node {node.Id} holds a different entry ({e.Index},t{e.Term}) than another node");
                }
            }
            else
            {
                _entriesSeen[(e.Index, e.Term)] = (data, prevTerm);
            }

            prevTerm = e.Term;
        }
    }

    private void Check(SimNode n)
    {
        if (n.Node is not { } node || _failure is not null)
        {
            return;
        }

        if (node.IsQuiesced != n.WasQuiesced)
        {
            Trace($"{(node.IsQuiesced ? "quiesced" : "woke")} {node.Id} ({node.Role} t{node.Term})");
            n.WasQuiesced = node.IsQuiesced;
            if (node.IsQuiesced)
            {
                _quiesces++;
                _leaderQuiesces += node.Role == RaftRole.Leader ? 1 : 0;
            }
            else
            {
                _wakes++;
            }
        }

        // Election Safety: at most one leader per term.
        if (node.Role == RaftRole.Leader)
        {
            if (_leaderOfTerm.TryGetValue(node.Term, out var other) && other != node.Id)
            {
                Fail($"election safety: nodes {other} and {node.Id} both leaders in term {node.Term}");
                return;
            }

            _leaderOfTerm[node.Term] = node.Id;
            _maxLeaderTerm = Math.Max(_maxLeaderTerm, node.Term);

            // Lease safety: a lease means no other leader can have been elected since the round that confirmed it
            // began, so no leader of a later term may exist while it is held. (A pure query: the schedule is unchanged.)
            if (_options.LeaseReads && _maxLeaderTerm > node.Term && node.TryLeaseRead(out _))
            {
                Fail($"lease safety: leader {node.Id} holds a lease in term {node.Term} after a leader of term {_maxLeaderTerm} was elected");
                return;
            }
            if (n.LeaderSince is not { } since || since.Term != node.Term)
            {
                Trace($"leader {node.Id} t{node.Term} last={node.LastIndex} commit={node.CommitIndex} {node.Conf}");
                // Leader Completeness: a new leader holds every committed entry.
                for (var i = Math.Max(1, node.FirstIndex); i <= _maxCommitted; i++)
                {
                    if (_committedTerm.TryGetValue(i, out var ct) && node.LogTermAt(i) != ct)
                    {
                        Fail($"leader completeness: leader {node.Id} (t{node.Term}) lacks committed entry ({i},t{ct})");
                        return;
                    }
                }
            }
            else
            {
                // Leader Append-Only: a leader never removes or rewrites its entries.
                if (node.LastIndex < since.LastIndex ||
                    (since.LastIndex >= node.FirstIndex - 1 && node.LogTermAt(since.LastIndex) != since.LastTerm))
                {
                    Fail($"leader append-only: leader {node.Id} (t{node.Term}) rewrote its log at or below {since.LastIndex}");
                    return;
                }
            }

            n.LeaderSince = (node.Term, node.LastIndex, node.LogTermAt(node.LastIndex));
        }
        else
        {
            n.LeaderSince = null;
        }

        // Commit-level State Machine Safety: everyone commits the same entry at each index.
        for (var i = Math.Max(n.SeenCommit + 1, node.FirstIndex); i <= node.CommitIndex; i++)
        {
            var t = node.LogTermAt(i);
            if (_committedTerm.TryGetValue(i, out var ct))
            {
                if (ct != t)
                {
                    Fail($"state machine safety: node {node.Id} committed ({i},t{t}) but ({i},t{ct}) was committed");
                    return;
                }
            }
            else
            {
                _committedTerm[i] = t;
            }
        }

        if (node.Role == RaftRole.Leader && node.CommitIndex > n.SeenCommit)
        {
            _recentCommitter = n;
            _recentCommitStep = _steps;
        }

        n.SeenCommit = Math.Max(n.SeenCommit, node.CommitIndex);
        _maxCommitted = Math.Max(_maxCommitted, node.CommitIndex);
    }

    private void Fail(string message)
    {
        if (_failure is null && _trace is not null)
        {
            message += "\n--- last events (replay trace) ---\n" + string.Join("\n", _trace) + "\n--- nodes ---\n" + this;
        }

        _failure ??= $"seed {_seed} step {_steps}: {message}";
    }

    private void Trace(string line)
    {
        if (_trace is null)
        {
            return;
        }

        _trace.Enqueue($"[{_steps}] {line}");
        if (_trace.Count > 5000)
        {
            _trace.Dequeue();
        }
    }

    // ---------------------------------------------------------------- helpers

    private SimNode? CurrentLeader()
    {
        SimNode? best = null;
        foreach (var n in _nodes.Values)
        {
            if (n.Node is { Role: RaftRole.Leader } node && (best is null || node.Term > best.Node!.Term))
            {
                best = n;
            }
        }

        return best;
    }

    private SimNode? RandomNode(Func<SimNode, bool> predicate)
    {
        var candidates = _nodes.Values.Where(predicate).ToList();
        return candidates.Count == 0 ? null : candidates[_rng.Next(candidates.Count)];
    }

    private void Shuffle<T>(List<T> list)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = _rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private static byte[] Payload(long id)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, id);
        return b;
    }

    internal static ulong Hash(ReadOnlySpan<byte> data)
    {
        ulong h = 14695981039346656037;
        foreach (var b in data)
        {
            h = (h ^ b) * 1099511628211;
        }

        return h;
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var n in _nodes.Values)
        {
            sb.AppendLine(n.Node is { } r ? $"{n.Id}: {r.Role} t{r.Term} lead={r.Leader} commit={r.CommitIndex} last={r.LastIndex} {r.Conf}{(r.IsQuiesced ? " quiesced" : "")}" : $"{n.Id}: down");
        }

        return sb.ToString();
    }
}
