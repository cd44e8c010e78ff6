namespace Storage.Directory;

// The rebalancer: observes membership and drains, and moves the map toward its target one persisted step at a time.
public sealed partial class DirectoryGrain
{
    /// <summary>Silos absent longer than <see cref="DirectoryOptions.GiveUpAfter"/>.</summary>
    private List<string> GivenUpSilos() => new();
}
