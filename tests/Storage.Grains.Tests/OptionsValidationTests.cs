using Storage.Directory;
using Storage.Persistence;
using Storage.Routing;
using Storage.Shards;

namespace Storage.Grains.Tests;

/// <summary>Every options class: the defaults pass, and each problem is reported naming its setting.</summary>
public class OptionsValidationTests
{
    [Fact]
    public void The_defaults_are_valid_except_the_missing_connection_string()
    {
        Assert.True(new ShardReplicaOptionsValidator().Validate(null, new ShardReplicaOptions()).Succeeded);
        Assert.True(new DirectoryOptionsValidator().Validate(null, new DirectoryOptions()).Succeeded);
        Assert.True(new RouterOptionsValidator().Validate(null, new RouterOptions()).Succeeded);
        Assert.True(new StoreLimitsOptionsValidator().Validate(null, new StoreLimitsOptions()).Succeeded);
        Assert.True(new LogWriterOptionsValidator().Validate(null, new LogWriterOptions()).Succeeded);
        Assert.True(new DatabaseOptionsValidator().Validate(null, new DatabaseOptions()).Succeeded);
        Assert.True(new StorageOptionsValidator().Validate(null, new StorageOptions { ConnectionString = "Host=db;Username=app" }).Succeeded);

        var missing = new StorageOptionsValidator().Validate(null, new StorageOptions());
        Assert.StartsWith("Storage:ConnectionString is required", Assert.Single(missing.Failures!));
    }

    [Fact]
    public void Each_failure_names_its_setting()
    {
        var replica = new ShardReplicaOptionsValidator().Validate(null, new ShardReplicaOptions { ElectionTicks = 2, HeartbeatTicks = 2, TickInterval = TimeSpan.Zero });
        Assert.Contains("Storage:Replica:ElectionTicks must be greater than HeartbeatTicks (2) (got 2)", replica.Failures!);
        Assert.Contains("Storage:Replica:TickInterval must be positive (got 00:00:00)", replica.Failures!);
        Assert.Contains(replica.Failures!, f => f.StartsWith("Storage:Replica:LeaseDriftTicks", StringComparison.Ordinal));

        Assert.Equal(
            ["Storage:Directory:ReplicationFactor must be between 1 and 7 (got 0)", "Storage:Directory:InitialSilos must be at least 1 (got 0)"],
            new DirectoryOptionsValidator().Validate(null, new DirectoryOptions { ReplicationFactor = 0 }).Failures!);
        Assert.Equal(
            ["Storage:Directory:SplitSizeBytes must be positive (got 0)", "Storage:Directory:SplitWritesPerSecond must be a positive number (got NaN)", "Storage:Directory:SplitLoadWindow must be positive (got 00:00:00)"],
            new DirectoryOptionsValidator().Validate(null, new DirectoryOptions { SplitSizeBytes = 0, SplitWritesPerSecond = double.NaN, SplitLoadWindow = TimeSpan.Zero }).Failures!);
        Assert.Equal(
            ["Storage:Router:RetryDelay must be positive (got 00:00:00)"],
            new RouterOptionsValidator().Validate(null, new RouterOptions { RetryDelay = TimeSpan.Zero }).Failures!);
        Assert.Equal(
            ["Storage:Limits:MaxKeyBytes must be at least 1 (got 0)"],
            new StoreLimitsOptionsValidator().Validate(null, new StoreLimitsOptions { MaxKeyBytes = 0 }).Failures!);
        Assert.Equal(
            ["Storage:LogWriter:MaxWritesPerBatch must be at least 1 (got 0)"],
            new LogWriterOptionsValidator().Validate(null, new LogWriterOptions { MaxWritesPerBatch = 0 }).Failures!);
        Assert.Equal(
            ["Storage:Database:MaxPoolSize must be at least 1 (got 0)"],
            new DatabaseOptionsValidator().Validate(null, new DatabaseOptions { MaxPoolSize = 0 }).Failures!);
        Assert.Equal(
            ["Storage:Region must not be empty", "Storage:Zone must not be empty"],
            new StorageOptionsValidator().Validate(null, new StorageOptions { ConnectionString = "Host=db", Region = " ", Zone = "" }).Failures!);
        Assert.StartsWith(
            "Storage:ConnectionString is not a valid PostgreSQL connection string",
            Assert.Single(new StorageOptionsValidator().Validate(null, new StorageOptions { ConnectionString = "Nonsense=1" }).Failures!));
    }
}
