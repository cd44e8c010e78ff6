using System.Collections.Concurrent;
using Storage.Shards;

namespace Storage.Faults;

/// <summary>
/// Network faults between silos for tests and demos, shared by every silo it is registered in: links
/// that drop calls (one or both directions), added latency per link, and paused replicas. The grain-call
/// filters consult it on every inter-silo call; nothing is injected unless a rule is set.
/// </summary>
public sealed class FaultController : IReplicaFaultHooks
{
    // Value: true when only Raft messages are lost on the link (router calls still pass).
    private readonly ConcurrentDictionary<(string From, string To), bool> _blocked = new();
    private readonly ConcurrentDictionary<(string From, string To), TimeSpan> _delays = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _paused = new();

    /// <summary>Calls from <paramref name="from"/> to <paramref name="to"/> are lost (only Raft messages if <paramref name="raftOnly"/>).</summary>
    public void Block(string from, string to, bool raftOnly = false) => _blocked[(from, to)] = raftOnly;

    public void BlockBothWays(string a, string b, bool raftOnly = false)
    {
        Block(a, b, raftOnly);
        Block(b, a, raftOnly);
    }

    /// <summary>Every call (or every Raft message) between the two groups is lost, both ways.</summary>
    public void Partition(IEnumerable<string> side, IEnumerable<string> otherSide, bool raftOnly = false)
    {
        var others = otherSide.ToList();
        foreach (var a in side)
        {
            foreach (var b in others)
            {
                BlockBothWays(a, b, raftOnly);
            }
        }
    }

    /// <summary>Adds latency to calls from <paramref name="from"/> to <paramref name="to"/> (e.g. a wide-area link).</summary>
    public void Delay(string from, string to, TimeSpan delay) => _delays[(from, to)] = delay;

    /// <summary>The replica stops processing: calls to it wait, its ticks stop, until <see cref="Resume"/>.</summary>
    public void Pause(string replicaKey) => _paused.TryAdd(replicaKey, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Resume(string replicaKey)
    {
        if (_paused.TryRemove(replicaKey, out var gate))
        {
            gate.TrySetResult();
        }
    }

    /// <summary>Removes every rule and releases every paused replica.</summary>
    public void HealAll()
    {
        _blocked.Clear();
        _delays.Clear();
        foreach (var key in _paused.Keys.ToList())
        {
            Resume(key);
        }
    }

    public bool IsBlocked(string from, string to, bool raftMessage) =>
        _blocked.TryGetValue((from, to), out var raftOnly) && (raftMessage || !raftOnly);

    public TimeSpan DelayOf(string from, string to) => _delays.TryGetValue((from, to), out var d) ? d : TimeSpan.Zero;

    public bool IsPaused(string replicaKey) => _paused.ContainsKey(replicaKey);

    /// <summary>Completes when the replica is not (or no longer) paused.</summary>
    public Task WaitWhilePaused(string replicaKey) => _paused.TryGetValue(replicaKey, out var gate) ? gate.Task : Task.CompletedTask;

    public int ActiveRules => _blocked.Count + _delays.Count + _paused.Count;
}
