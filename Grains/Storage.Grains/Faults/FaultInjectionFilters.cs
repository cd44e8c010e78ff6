using Storage.Shards;

namespace Storage.Faults;

/// <summary>Stamps every outgoing call with the calling silo, so the receiving silo can apply link rules.</summary>
public sealed class FaultInjectionOutgoingFilter : IOutgoingGrainCallFilter
{
    internal const string SourceSiloKey = "storage.fault.src";
    private readonly string local;

    public FaultInjectionOutgoingFilter(ILocalSiloDetails silo) => local = SiloKeys.Of(silo.SiloAddress);

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        RequestContext.Set(SourceSiloKey, local);
        return context.Invoke();
    }
}

/// <summary>
/// Applies <see cref="FaultController"/> rules to calls arriving at replica grains: a blocked link loses
/// one-way Raft messages and fails requests like a timeout; a delayed link waits first; a paused replica
/// holds calls until resumed.
/// </summary>
public sealed class FaultInjectionIncomingFilter : IIncomingGrainCallFilter
{
    private readonly FaultController faults;
    private readonly string local;

    public FaultInjectionIncomingFilter(FaultController faults, ILocalSiloDetails silo)
    {
        this.faults = faults;
        local = SiloKeys.Of(silo.SiloAddress);
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is not IShardReplicaGrain || faults.ActiveRules == 0)
        {
            await context.Invoke();
            return;
        }

        var source = RequestContext.Get(FaultInjectionOutgoingFilter.SourceSiloKey) as string;
        if (source is not null && source != local)
        {
            var delay = faults.DelayOf(source, local);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay);
            }

            var raft = context.InterfaceMethod?.Name == nameof(IShardReplicaGrain.Deliver);
            if (faults.IsBlocked(source, local, raft))
            {
                if (raft)
                {
                    return; // a lost one-way message
                }

                throw new TimeoutException($"injected partition: {source} cannot reach {local}");
            }
        }

        var key = context.TargetId.Key.ToString();
        if (key is not null)
        {
            await faults.WaitWhilePaused(key);
        }

        await context.Invoke();
    }
}
