using Xunit;

// Fault runs measure nothing but correctness, yet they share 2 cores: one cluster at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
