using System.Text;
using Storage.Raft.Tests.BrokenVariants;
using Xunit;

namespace Storage.Raft.Tests.Scenarios;

/// <summary>One node of a scenario: its core, its "disk", and what it applied and read.</summary>
internal sealed class ScenarioNode
{
    public required RaftNode Raft { get; set; }
    public required MemoryRaftLog Storage { get; init; }
    public required RaftConfig Config { get; init; }
    public List<Entry> Applied { get; } = new();
    public List<ReadState> Reads { get; } = new();
    public List<SoftState> SoftStates { get; } = new();
    public string AppliedText => string.Join(",", Applied.Where(e => e.Type == EntryType.Normal && e.Data.Length > 0).Select(e => Encoding.UTF8.GetString(e.Data)));
}

/// <summary>
/// A small cluster driven by hand, in the style of etcd-raft's interaction tests: messages queue up in
/// <see cref="InFlight"/> until delivered; persistence is instant unless a node is "slow"; links can be cut.
/// </summary>
internal sealed class RaftScenario
{
    private readonly Func<RaftConfig, RaftConfig> _configure;
    private readonly RaftFaults _faults;
    private readonly HashSet<(long, long)> _cut = new();

    private RaftScenario(Func<RaftConfig, RaftConfig> configure, RaftFaults faults)
    {
        _configure = configure;
        _faults = faults;
    }

    public SortedDictionary<long, ScenarioNode> Nodes { get; } = new();

    public List<Message> InFlight { get; } = new();

    /// <summary>Every message delivered, in order (for assertions about traffic).</summary>
    public List<Message> Delivered { get; } = new();

    /// <param name="faults">Rules every node breaks on purpose (<see cref="TestRaftNode"/>); none by default.</param>
    public static RaftScenario Create(int voters, Func<RaftConfig, RaftConfig>? configure = null, RaftFaults faults = RaftFaults.None)
    {
        var scenario = new RaftScenario(configure ?? (c => c), faults);
        var ids = Enumerable.Range(1, voters).Select(i => (long)i).ToList();
        foreach (var id in ids)
        {
            scenario.AddNode(id, MemoryRaftLog.Bootstrap(ids));
        }

        return scenario;
    }

    public ScenarioNode this[long id] => Nodes[id];

    public ScenarioNode AddNode(long id, MemoryRaftLog? storage = null)
    {
        var config = _configure(new RaftConfig { Id = id, ElectionTick = 10, HeartbeatTick = 1 });
        storage ??= new MemoryRaftLog(Snapshot.Initial(ConfState.Empty));
        var node = new ScenarioNode
        {
            Raft = NewNode(config, storage, new Random((int)id)),
            Storage = storage,
            Config = config,
        };
        Nodes[id] = node;
        return node;
    }

    /// <summary>Crash and restart from storage (everything persisted survives; nothing else does).</summary>
    public void Restart(long id)
    {
        var n = Nodes[id];
        InFlight.RemoveAll(m => m.To == id);
        var applied = n.Storage.Snapshot.Index;
        n.Applied.RemoveAll(e => e.Index > applied);
        n.Raft = NewNode(n.Config with { Applied = applied }, n.Storage, new Random((int)id + 1000));
    }

    private RaftNode NewNode(RaftConfig config, MemoryRaftLog storage, Random random) =>
        _faults == RaftFaults.None ? new RaftNode(config, storage, random) : new TestRaftNode(config, storage, random, _faults);

    public void Cut(long a, long b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    public void CutOneWay(long from, long to) => _cut.Add((from, to));

    public void Isolate(long id)
    {
        foreach (var other in Nodes.Keys.Where(k => k != id))
        {
            Cut(id, other);
        }
    }

    public void Heal() => _cut.Clear();

    /// <summary>Runs the application loop of a node until it has nothing ready: persist, send, apply, advance.</summary>
    public void Process(long id)
    {
        var n = Nodes[id];
        while (n.Raft.TakeReady() is { } ready)
        {
            InFlight.AddRange(ready.Messages);
            if (ready.Snapshot is { } snap)
            {
                n.Storage.ApplySnapshot(snap);
                n.Applied.Clear();
            }

            n.Storage.Append(ready.Entries);
            if (ready.HardState is { } hs && ready.MustPersist)
            {
                // As the replica grain does: a new commit index alone is not written.
                n.Storage.SetHardState(hs);
            }

            InFlight.AddRange(ready.PersistedMessages);
            n.Applied.AddRange(ready.CommittedEntries);
            n.Reads.AddRange(ready.ReadStates);
            if (ready.SoftState is { } soft)
            {
                n.SoftStates.Add(soft);
            }

            n.Raft.Advance(ready);
        }
    }

    public void ProcessAll()
    {
        foreach (var id in Nodes.Keys.ToList())
        {
            Process(id);
        }
    }

    /// <summary>Delivers messages (and those they cause) until the network is quiet. Returns how many were delivered.</summary>
    public int Stabilize(Func<Message, bool>? filter = null)
    {
        var delivered = 0;
        for (var guard = 0; guard < 10_000; guard++)
        {
            ProcessAll();
            if (InFlight.Count == 0)
            {
                return delivered;
            }

            var batch = InFlight.ToList();
            InFlight.Clear();
            foreach (var m in batch)
            {
                if (_cut.Contains((m.From, m.To)) || (filter is not null && !filter(m)) || !Nodes.ContainsKey(m.To))
                {
                    continue;
                }

                Delivered.Add(m);
                Nodes[m.To].Raft.Step(m);
                delivered++;
            }
        }

        throw new InvalidOperationException("network never became quiet");
    }

    /// <summary>Takes the queued messages matching a predicate without delivering them.</summary>
    public List<Message> Take(Func<Message, bool> predicate)
    {
        ProcessAll();
        var taken = InFlight.Where(predicate).ToList();
        InFlight.RemoveAll(m => predicate(m));
        return taken;
    }

    public void Deliver(IEnumerable<Message> messages)
    {
        foreach (var m in messages)
        {
            Delivered.Add(m);
            Nodes[m.To].Raft.Step(m);
        }
    }

    public void Tick(long id, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            Nodes[id].Raft.Tick();
            Stabilize();
        }
    }

    public void TickAll(int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            foreach (var n in Nodes.Values)
            {
                n.Raft.Tick();
            }

            Stabilize();
        }
    }

    public long Elect(long id)
    {
        Nodes[id].Raft.Campaign();
        Stabilize();
        Assert.Equal(RaftRole.Leader, Nodes[id].Raft.Role);
        return Nodes[id].Raft.Term;
    }

    public ProposeResult Propose(long id, string value)
    {
        var r = Nodes[id].Raft.Propose(Encoding.UTF8.GetBytes(value));
        Stabilize();
        return r;
    }

    public IEnumerable<ScenarioNode> Leaders => Nodes.Values.Where(n => n.Raft.Role == RaftRole.Leader);
}
