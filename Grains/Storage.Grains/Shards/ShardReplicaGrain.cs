using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;
using Storage.Directory;
using Storage.Persistence;
using Storage.Raft;
using Storage.StateMachine;

namespace Storage.Shards;

/// <summary>
/// Drives one <see cref="RaftNode"/>: persists each Ready through the silo's <see cref="LogWriter"/> (group
/// commit, fenced by this activation's incarnation), sends batched one-way messages to its peers, applies
/// committed entries to the <see cref="KvStateMachine"/>, answers waiting callers, ticks from a timer and
/// checkpoints through grain storage. Reentrant: every turn is synchronous between awaits, so the grain
/// never holds its turn while PostgreSQL commits.
/// </summary>
[Reentrant]
[KeepAlive]
[ReplicaPlacement]
public sealed partial class ShardReplicaGrain : Grain, IShardReplicaGrain
{
    private readonly ILogger<ShardReplicaGrain> _logger;
    private readonly LogWriter _writer;
    private readonly IRaftLogStore _store;
    private readonly ShardReplicaOptions _options;
    private readonly StoreLimits _limits;
    private readonly ShardMapCache _maps;
    private readonly ReplicaMetrics _metrics;
    private readonly GrainStateSlot<ReplicaCheckpoint> _checkpoint;
    private readonly IGrainStorage _checkpointStorage;
    private readonly string? _connectionString;
    private readonly string _siloKey;
    private readonly LocalReplicas _localReplicas;
    private readonly IReplicaFaultHooks _faultHooks;
    private readonly Dictionary<long, (long Term, TaskCompletionSource<KvApplyResult> Done)> _pendingWrites = new();
    private readonly Dictionary<long, TaskCompletionSource<bool>> _pendingReadIndex = new();
    private readonly List<(long Index, TaskCompletionSource<bool> Done)> _readsWaitingForApply = new();
    private readonly Dictionary<long, IShardReplicaGrain> _peers = new();

    private ReplicaKey _key;
    private string _keyText = "";
    private long _incarnation;
    private MemoryRaftLog _log = null!;
    private RaftNode _node = null!;
    private KvStateMachine _machine = null!;
    private Ready? _outstanding;
    private bool _stopped;
    private long _readSequence;
    private long _lastTickAt;
    private long _lastCheckpointIndex;
    private long _bytesSinceCheckpoint;
    private bool _checkpointInFlight;

    /// <summary>The grain-storage state name of the checkpoint (the rows written so far carry it).</summary>
    private const string CheckpointStateName = "checkpoint";

    public ShardReplicaGrain(
        ILogger<ShardReplicaGrain> logger,
        LogWriter writer,
        IRaftLogStore store,
        IOptions<ShardReplicaOptions> options,
        IOptions<StoreLimitsOptions> limits,
        ShardMapCache maps,
        ReplicaMetrics metrics,
        ILocalSiloDetails silo,
        LocalReplicas localReplicas,
        IReplicaFaultHooks faultHooks,
        IOptions<StorageOptions> storage,
        [FromKeyedServices(StorageProviders.Checkpoints)] IGrainStorage checkpointStorage)
    {
        _logger = logger;
        _writer = writer;
        _store = store;
        _options = options.Value;
        _limits = limits.Value.ToLimits();
        _maps = maps;
        _metrics = metrics;
        // Read in OnActivateAsync, not by [PersistentState]: see GrainStateSlot.
        _checkpoint = new GrainStateSlot<ReplicaCheckpoint>(checkpointStorage, CheckpointStateName, this.GetGrainId());
        _checkpointStorage = checkpointStorage;
        _connectionString = storage.Value.ConnectionString;
        _siloKey = SiloKeys.Of(silo);
        _localReplicas = localReplicas;
        _faultHooks = faultHooks;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _localReplicas.Remove(_keyText);
        Stop($"deactivating: {reason}");
        return Task.CompletedTask;
    }

    public Task<ReplicaStatus> GetStatus()
    {
        return Task.FromResult(new ReplicaStatus(
            _key.Replica,
            _siloKey,
            _stopped ? "Stopped" : _node.Role.ToString(),
            _node.Term,
            _node.CommitIndex,
            _machine.AppliedIndex,
            Reachable: true,
            IsLearner: _node.Conf.IsLearner(_key.Replica),
            Incarnation: _incarnation,
            DataBytes: _machine.DataBytes,
            KeyCount: _machine.Count,
            WritesApplied: _writesApplied,
            RangeVersion: _machine.RangeVersion));
    }

    public Task Ensure() => Task.CompletedTask;

    private void EnsureRunning()
    {
        if (_stopped)
        {
            throw new ShardBusyException($"replica {_keyText} is restarting");
        }
    }

    private void Stop(string why)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        var error = new ShardBusyException($"replica {_keyText} stopped ({why}); retry");
        foreach (var w in _pendingWrites.Values)
        {
            w.Done.TrySetException(error);
        }

        foreach (var r in _pendingReadIndex.Values)
        {
            r.TrySetException(error);
        }

        foreach (var s in _pendingSplits.Values)
        {
            s.Done.TrySetException(error);
        }

        foreach (var r in _readsWaitingForApply)
        {
            r.Done.TrySetException(error);
        }

        foreach (var m in _pendingMembership.Values)
        {
            m.Done.TrySetException(error);
        }

        _pendingMembership.Clear();

        _pendingWrites.Clear();
        _pendingReadIndex.Clear();
        _pendingSplits.Clear();
        _readsWaitingForApply.Clear();
        DeactivateOnIdle();
    }
}
