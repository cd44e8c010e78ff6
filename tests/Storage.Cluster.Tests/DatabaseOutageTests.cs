using System.Text;
using Storage.Development;
using Storage.TestKit;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>
/// PostgreSQL really stops under a running cluster and starts again: while it is down every failure a caller sees is
/// a typed, transient <see cref="StorageException"/> (never a driver exception, never a serializer failure), and once
/// it is back the same calls succeed.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private EmbeddedPostgres? _restarted;
    private StorageCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _cluster = await StorageCluster.StartAsync(
            await _postgres.CreateDatabaseAsync("outage"),
            settings: new Dictionary<string, string?>
            {
                ["Storage:Directory:InitialShards"] = "2",
                // A short router budget, so that calls made while the database is down come back within the outage.
                ["Storage:Router:RetryBudget"] = "00:00:02",
            });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        if (_restarted is not null)
        {
            await _restarted.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task WhilePostgresIsDownCallersSeeOnlyTypedTransientErrorsAndAfterwardsWritesSucceed()
    {
        var store = _cluster.Store;
        var map = await _cluster.ShardMapAsync();
        var keys = map.Shards.Select(s => StorageCluster.KeyInShard(map, s.ShardId, "outage/")).ToList();
        foreach (var key in keys)
        {
            await store.PutAsync(key, Encoding.UTF8.GetBytes("before"), new WriteId(Guid.NewGuid(), 1));
        }

        var server = _postgres.Server;
        await server.StopAsync();
        var failures = new List<Exception>();
        try
        {
            // Long enough for writes to fail, replicas to stop, and their re-activation (checkpoint and log reads) to
            // fail against the stopped database: the path on which a driver exception used to reach clients.
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(8);
            var n = 0;
            while (DateTime.UtcNow < until)
            {
                foreach (var key in keys)
                {
                    try
                    {
                        await store.PutAsync(key, Encoding.UTF8.GetBytes($"down {n++}"), new WriteId(Guid.NewGuid(), 1));
                    }
                    catch (Exception e)
                    {
                        failures.Add(e);
                    }
                }
            }
        }
        finally
        {
            _restarted = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
            {
                DataDirectory = server.DataDirectory,
                Port = server.Port,
                Database = server.Database,
                Durable = false,
                Settings = { ["max_connections"] = "300" }, // as PostgresFixture started it
            });
        }

        Assert.NotEmpty(failures);
        foreach (var e in failures)
        {
            var typed = Assert.IsAssignableFrom<StorageException>(e);
            Assert.True(typed.IsTransient, $"not transient: {e}");
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            {
                var ns = inner.GetType().Namespace ?? "";
                Assert.True(inner is StorageException || ns.StartsWith("Orleans.Runtime", StringComparison.Ordinal) || ns == "System", $"untyped error in the chain: {e}");
            }

            Assert.DoesNotContain("CodecNotFound", e.ToString(), StringComparison.Ordinal);
        }

        // Back up: every shard takes writes again (retrying with the same WriteId while replicas reload).
        foreach (var key in keys)
        {
            var id = new WriteId(Guid.NewGuid(), 1);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                try
                {
                    await store.PutAsync(key, Encoding.UTF8.GetBytes("after"), id);
                    break;
                }
                catch (StorageException e) when (e.IsTransient && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200);
                }
            }

            var read = await store.GetAsync(key);
            Assert.Equal("after", Encoding.UTF8.GetString(read.Value!));
        }
    }
}
