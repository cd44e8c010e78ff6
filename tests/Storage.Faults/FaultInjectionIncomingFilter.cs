using Storage.Directory;
using Storage.Shards;

namespace Storage.Faults;

/// <summary>
/// Applies <see cref="FaultController"/> rules to calls arriving at replica grains: a blocked link loses
/// one-way Raft messages and fails requests like a timeout; a delayed link waits first; a paused replica
/// holds calls until resumed.
/// </summary>
public sealed class FaultInjectionIncomingFilter : IIncomingGrainCallFilter
{
    private readonly FaultController _faults;
    private readonly string _local;

    public FaultInjectionIncomingFilter(FaultController faults, ILocalSiloDetails silo)
    {
        _faults = faults;
        _local = SiloKeys.Of(silo);
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is not IShardReplicaGrain || _faults.ActiveRules == 0)
        {
            await context.Invoke();
            return;
        }

        var source = RequestContext.Get(FaultInjectionOutgoingFilter.SourceSiloKey) as string;
        if (source is not null && source != _local)
        {
            var delay = _faults.DelayOf(source, _local);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay);
            }

            var raft = context.InterfaceMethod?.Name == nameof(IShardReplicaGrain.Deliver);
            if (_faults.IsBlocked(source, _local, raft))
            {
                if (raft)
                {
                    return; // a lost one-way message
                }

                throw new TimeoutException($"injected partition: {source} cannot reach {_local}");
            }
        }

        var key = context.TargetId.Key.ToString();
        if (key is not null)
        {
            await _faults.WaitWhilePaused(key);
        }

        await context.Invoke();
    }
}
