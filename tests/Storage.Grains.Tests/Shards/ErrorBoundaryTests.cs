using Npgsql;
using Orleans.Runtime;
using Storage.Persistence;
using Storage.Shards;

namespace Storage.Grains.Tests.Shards;

/// <summary>What the store's grains let out as an error: typed, serializable, transient where retrying helps, no secrets.</summary>
public class ErrorBoundaryTests
{
    private const string Password = "s3cr3t-Pa55word";
    private const string ConnectionString = "Host=db.internal;Port=6543;Database=kv;Username=app;Password=" + Password;

    // What a replica's log store throws when PostgreSQL shuts down under it (pg_ctl stop -m fast).
    private static PostgresException AdminShutdown() =>
        new("terminating connection due to administrator command", "FATAL", "FATAL", "57P01");

    [Fact]
    public void A_postgres_error_becomes_a_transient_backend_error_naming_host_port_and_database_only()
    {
        var typed = Assert.IsType<StorageBackendUnavailableException>(ErrorBoundary.Translate(AdminShutdown(), ConnectionString));

        Assert.Equal("db.internal", typed.Host);
        Assert.Equal(6543, typed.Port);
        Assert.Equal("kv", typed.Database);
        Assert.Contains("terminating connection due to administrator command", typed.Reason);
        Assert.Contains("57P01", typed.Reason);
        Assert.True(typed.IsTransient);
        Assert.True(TransientErrors.IsTransient(typed));
        Assert.True(TransientErrors.IsTransientInCluster(typed));
        Assert.Null(typed.InnerException);
        Assert.DoesNotContain(Password, typed.Message);
        Assert.DoesNotContain(Password, typed.ToString());
    }

    [Fact]
    public void The_password_is_blanked_even_if_a_driver_message_quotes_it()
    {
        var leaky = new NpgsqlException($"could not use password {Password} for user app", new NpgsqlException("inner " + Password));

        var typed = Assert.IsType<StorageBackendUnavailableException>(ErrorBoundary.Translate(leaky, ConnectionString));

        Assert.DoesNotContain(Password, typed.Message);
        Assert.Contains("***", typed.Reason);
    }

    [Fact]
    public void Driver_errors_wrapped_by_orleans_grain_storage_or_the_log_writer_are_backend_errors_too()
    {
        // Orleans' storage bridge wraps a provider's exception in an OrleansException; the log writer refuses later
        // writes of an incarnation with ReplicaLogPoisonedException around the first failure.
        var storage = new OrleansException("Error from storage provider AdoNetGrainStorage.checkpoints during ReadStateAsync", new NpgsqlException("Exception while reading from stream", new IOException("reset")));
        var poisoned = new ReplicaLogPoisonedException("0/1", 7, AdminShutdown());

        Assert.IsType<StorageBackendUnavailableException>(ErrorBoundary.Translate(storage, ConnectionString));
        var typed = Assert.IsType<StorageBackendUnavailableException>(ErrorBoundary.Translate(poisoned, ConnectionString));
        Assert.Contains("57P01", typed.Reason);
    }

    [Fact]
    public void A_refused_connection_keeps_the_host_port_and_database_it_named()
    {
        var refused = PostgresConnections.Unavailable("Host=10.0.0.9;Port=5999;Database=other;Password=" + Password, new NpgsqlException("Failed to connect to 10.0.0.9:5999"));

        var typed = Assert.IsType<StorageBackendUnavailableException>(ErrorBoundary.Translate(refused, ConnectionString));

        Assert.Equal(("10.0.0.9", 5999, "other"), (typed.Host, typed.Port, typed.Database));
        Assert.Contains("Failed to connect", typed.Reason);
    }

    [Fact]
    public void An_unexpected_error_becomes_a_typed_internal_error_naming_its_type_and_message()
    {
        var typed = Assert.IsType<StorageInternalException>(ErrorBoundary.Translate(new InvalidOperationException("stored log starts at 9 but the checkpoint is at 3"), ConnectionString));

        Assert.Equal("System.InvalidOperationException", typed.ErrorType);
        Assert.Equal("stored log starts at 9 but the checkpoint is at 3", typed.ErrorMessage);
        Assert.Contains("System.InvalidOperationException", typed.Message);
        Assert.False(TransientErrors.IsTransient(typed));
        Assert.False(TransientErrors.IsTransientInCluster(typed));
        Assert.Null(typed.InnerException);
    }

    [Fact]
    public void Runtime_failures_and_timeouts_inside_the_cluster_become_an_unavailable_shard()
    {
        foreach (var e in new Exception[] { new TimeoutException("no answer"), new SiloUnavailableException("gone"), new OperationCanceledException() })
        {
            var typed = Assert.IsType<ShardUnavailableException>(ErrorBoundary.Translate(e, ConnectionString));
            Assert.True(TransientErrors.IsTransient(typed));
            Assert.Same(e, typed.InnerException);
        }
    }

    [Fact]
    public void The_store_s_own_errors_pass_unchanged()
    {
        Exception[] typed =
        {
            new VersionConflictException("k", 1, 2),
            new NotLeaderException("0/1", 2),
            new ShardBusyException("no quorum"),
            new ShardUnavailableException("budget spent", new TimeoutException()),
            new StorageBackendUnavailableException("h", 1, "d", "down"),
        };
        foreach (var e in typed)
        {
            Assert.Same(e, ErrorBoundary.Translate(e, ConnectionString));
        }
    }

    [Fact]
    public void A_spent_budget_keeps_its_type_but_its_inner_error_is_made_serializable()
    {
        var raw = new ShardUnavailableException("shard 2 did not answer", new OrleansException("storage", AdminShutdown()));

        var typed = Assert.IsType<ShardUnavailableException>(ErrorBoundary.Translate(raw, ConnectionString));

        Assert.Equal(raw.Message, typed.Message);
        Assert.IsType<StorageBackendUnavailableException>(typed.InnerException);
        Assert.True(ErrorBoundary.IsWireSafe(typed));
    }

    [Fact]
    public void Driver_exceptions_are_not_wire_safe_and_typed_chains_are()
    {
        Assert.False(ErrorBoundary.IsWireSafe(AdminShutdown()));
        Assert.False(ErrorBoundary.IsWireSafe(new OrleansException("wrapped", AdminShutdown())));
        Assert.False(ErrorBoundary.IsWireSafe(new StorageException("ours", AdminShutdown())));
        Assert.True(ErrorBoundary.IsWireSafe(new ShardUnavailableException("spent", new OrleansException("wrapped", new TimeoutException()))));
    }

    [Fact]
    public void Redaction_leaves_text_alone_without_a_password()
    {
        Assert.Equal("Connection refused", BackendErrors.Redact("Connection refused", "Host=h;Database=d"));
        Assert.Equal("Connection refused", BackendErrors.Redact("Connection refused", null));
    }
}
