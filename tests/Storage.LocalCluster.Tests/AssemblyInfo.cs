using Xunit;

// Each test runs its own PostgreSQL and silo processes; side by side on 2 cores they would only slow each other
// into timeouts.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
