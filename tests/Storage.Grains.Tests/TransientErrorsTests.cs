using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Storage.Grains.Tests;

/// <summary>The one retry classifier of the router and the client.</summary>
public class TransientErrorsTests
{
    public static TheoryData<Exception> Transient => new()
    {
        new ShardUnavailableException("no leader"),
        new ShardBusyException("no quorum"),
        new StorageBackendUnavailableException("db", 5432, "storage", "Connection refused"),
        new OrleansException("wrapped", new StorageBackendUnavailableException("db", 5432, "storage", "Connection refused")),
        new TimeoutException(),
        new SiloUnavailableException("gone"),
        new ConnectionFailedException("refused"),
        new OrleansException("wrapped", new TimeoutException()),
    };

    public static TheoryData<Exception> Definite => new()
    {
        new VersionConflictException("k", 1, 2),
        new InvalidKeyException("empty"),
        new ValueTooLargeException("big"),
        new InvalidRequestException("bad"),
        new StorageException("anything else the store reports on purpose"),
        new StorageInternalException("System.InvalidOperationException", "a bug"),
        new InvalidOperationException(),
        new OrleansException("wrapped", new VersionConflictException("k", 1, 2)),
    };

    [Theory]
    [MemberData(nameof(Transient))]
    public void Outcome_unknown_failures_are_transient_everywhere(Exception e)
    {
        Assert.True(TransientErrors.IsTransient(e));
        Assert.True(TransientErrors.IsTransientInCluster(e));
    }

    [Theory]
    [MemberData(nameof(Definite))]
    public void Definite_failures_are_not_transient_for_a_client(Exception e) =>
        Assert.False(TransientErrors.IsTransient(e));

    [Fact]
    public void The_store_s_definite_errors_are_not_retried_inside_the_cluster_either()
    {
        Assert.False(TransientErrors.IsTransientInCluster(new VersionConflictException("k", 1, 2)));
        Assert.False(TransientErrors.IsTransientInCluster(new InvalidRequestException("bad")));
        Assert.False(TransientErrors.IsTransientInCluster(new InvalidOperationException()));
    }

    [Fact]
    public void Inside_the_cluster_any_runtime_failure_or_cancellation_means_try_another_replica()
    {
        // Placement throws a bare OrleansException when no silo fits while silos come and go.
        var noSilo = new OrleansException("no compatible silo");
        var cancelled = new OperationCanceledException();
        Assert.True(TransientErrors.IsTransientInCluster(noSilo));
        Assert.True(TransientErrors.IsTransientInCluster(cancelled));
        Assert.False(TransientErrors.IsTransient(noSilo));
        Assert.False(TransientErrors.IsTransient(cancelled));
    }
}
