using Xunit;

// All classes share one 3-silo cluster (see ClientClusterCollection); on 2 cores one test at a time keeps timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
