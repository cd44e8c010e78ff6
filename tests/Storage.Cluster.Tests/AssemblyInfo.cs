using Xunit;

// Each test class runs its own silos; running them one at a time keeps timing-sensitive failover honest on 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
