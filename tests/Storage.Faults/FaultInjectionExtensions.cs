using Microsoft.Extensions.DependencyInjection;
using Storage.Shards;

namespace Storage.Faults;

public static class FaultInjectionExtensions
{
    /// <summary>Routes every call into replicas through <paramref name="controller"/> (one instance shared by all silos of a test).</summary>
    public static ISiloBuilder UseFaultInjection(this ISiloBuilder silo, FaultController controller)
    {
        silo.Services.AddSingleton(controller);
        // Replaces the no-op hooks that AddStorageServer registers with TryAdd, whichever runs first.
        silo.Services.AddSingleton<IReplicaFaultHooks>(controller);
        silo.AddOutgoingGrainCallFilter<FaultInjectionOutgoingFilter>();
        silo.AddIncomingGrainCallFilter<FaultInjectionIncomingFilter>();
        return silo;
    }
}
