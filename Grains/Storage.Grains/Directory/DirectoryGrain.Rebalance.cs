namespace Storage.Directory;

// The rebalancer: observes membership and drains, and moves the map toward its target one persisted step at a time.
public sealed partial class DirectoryGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Stand-in for the rebalancer loop (the lead's, not yet on main): one pass per RebalancePeriod.
        this.RegisterGrainTimer(RebalanceOnceAsync, new GrainTimerCreationOptions(_options.RebalancePeriod, _options.RebalancePeriod) { KeepAlive = true });
        return Task.CompletedTask;
    }

    private async Task RebalanceOnceAsync(CancellationToken ct)
    {
        await StepMembershipChangesAsync();
    }

    /// <summary>Silos absent longer than <see cref="DirectoryOptions.GiveUpAfter"/>.</summary>
    private List<string> GivenUpSilos() => new();
}
