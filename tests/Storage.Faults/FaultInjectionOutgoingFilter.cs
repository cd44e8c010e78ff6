using Storage.Directory;

namespace Storage.Faults;

/// <summary>Stamps every outgoing call with the calling silo, so the receiving silo can apply link rules.</summary>
public sealed class FaultInjectionOutgoingFilter : IOutgoingGrainCallFilter
{
    internal const string SourceSiloKey = "storage.fault.src";
    private readonly string _localSilo;

    public FaultInjectionOutgoingFilter(ILocalSiloDetails silo) => _localSilo = SiloKeys.Of(silo);

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        RequestContext.Set(SourceSiloKey, _localSilo);
        return context.Invoke();
    }
}
