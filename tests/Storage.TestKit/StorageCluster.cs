using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using Storage.Silo.Hosting;

namespace Storage.TestKit;

/// <summary>
/// An in-process Orleans test cluster of real silos wired exactly like the product (<see cref="StorageSiloBuilderExtensions.UseStorage"/>):
/// AdoNet membership and checkpoints on a real PostgreSQL, silos in distinct regions, fast Raft ticks.
/// </summary>
public sealed class StorageCluster : IAsyncDisposable
{
    private static readonly string[] Regions = { "eu", "us", "ap" };
    private int _silosCreated;

    private StorageCluster(InProcessTestCluster cluster, string connectionString)
    {
        Cluster = cluster;
        ConnectionString = connectionString;
    }

    public InProcessTestCluster Cluster { get; }

    public string ConnectionString { get; }

    public IClusterClient Client => Cluster.Client;

    public IStore Store => Client.GetGrain<IStore>(0);

    /// <summary>
    /// Starts <paramref name="silos"/> silos on the database and waits until every shard has a leader.
    /// <paramref name="configureSilo"/> runs last in every silo's configuration (also of silos started later).
    /// </summary>
    public static async Task<StorageCluster> StartAsync(string connectionString, int silos = 3, IDictionary<string, string?>? settings = null, TimeSpan? readyTimeout = null, string serviceId = "storage-tests", Storage.Faults.FaultController? faults = null, Action<ISiloBuilder>? configureSilo = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Storage:Replica:TickInterval"] = "00:00:00.030",
            ["Storage:Replica:ElectionTicks"] = "10",
            ["Storage:Replica:HeartbeatTicks"] = "2",
            ["Storage:Directory:InitialShards"] = "4",
            ["Storage:Directory:ReplicationFactor"] = "3",
            ["Storage:Router:RetryBudget"] = "00:00:20",
            // Draining on every graceful stop is covered by the rebalancing tests; elsewhere a stop only hands off
            // leaders, so that tests that stop silos (and every cluster's disposal) do not wait for drains.
            ["Storage:Drain:OnShutdown"] = "false",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            values[k] = v;
        }

        StorageCluster? self = null;
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        builder.Options.ServiceId = serviceId; // grain storage (checkpoints, shard map) is keyed by service id
        TestClusterMembership.UseRealMembership(builder.Options);
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Logging.SetMinimumLevel(LogLevel.Warning);
            host.Logging.AddFilter("Storage", LogLevel.Information);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            var n = Interlocked.Increment(ref self!._silosCreated) - 1;
            var region = Regions[n % Regions.Length];
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(values)
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Storage:ConnectionString"] = connectionString,
                    ["Storage:Region"] = region,
                    ["Storage:Zone"] = $"{region}-1",
                })
                .Build();
            silo.UseStorage(configuration.GetSection(StorageOptions.SectionName));
            silo.Configure<ClusterMembershipOptions>(FastFailureDetection);
            if (faults is not null)
            {
                Storage.Faults.FaultInjectionExtensions.UseFaultInjection(silo, faults);
            }

            configureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client => client.UseAdoNetClustering(o =>
        {
            o.Invariant = StorageSiloBuilderExtensions.Invariant;
            o.ConnectionString = connectionString;
        }));
        builder.ConfigureClientHost(host => host.Logging.SetMinimumLevel(LogLevel.Warning));

        self = new StorageCluster(builder.Build(), connectionString);
        await self.Cluster.DeployAsync();
        foreach (var silo in self.Cluster.Silos)
        {
            _ = KeyOf(silo);
        }

        await self.WaitUntilReadyAsync(readyTimeout ?? TimeSpan.FromSeconds(60));
        return self;
    }

    /// <summary>Quick death detection so that failover tests run in seconds, not a minute.</summary>
    public static void FastFailureDetection(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.NumVotesForDeathDeclaration = 1;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
    }

    /// <summary>Waits until every shard reports a leader and every replica answers.</summary>
    public async Task<ClusterStatus> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "no status yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var status = await Store.GetStatusAsync();
                if (status.Shards.Count > 0 && status.Shards.All(s => s.LeaderReplica != 0 && s.Replicas.All(r => r.Reachable)))
                {
                    return status;
                }

                last = string.Join("; ", status.Shards.Select(s => $"shard {s.ShardId}: leader {s.LeaderReplica}, " + string.Join(",", s.Replicas.Select(r => $"{r.ReplicaId}={r.Role}"))));
            }
            catch (Exception e)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"cluster not ready within {timeout.TotalSeconds} s: {last}");
    }

    /// <summary>
    /// Waits until every shard is led by its preferred replica (leader balancing is done), so that a test
    /// that counts leaders per silo does not race with leadership transfers.
    /// </summary>
    public async Task<ClusterStatus> WaitForPreferredLeadersAsync(TimeSpan timeout)
    {
        var map = await ShardMapAsync();
        var preferred = map.Shards.ToDictionary(s => s.ShardId, s => s.Replicas[0].ReplicaId);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = await Store.GetStatusAsync();
            if (status.Shards.All(s => s.LeaderReplica == preferred[s.ShardId]) || DateTime.UtcNow > deadline)
            {
                return status;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The shard map as the directory holds it.</summary>
    public async Task<ShardMap> ShardMapAsync() =>
        await Client.GetGrain<Storage.Directory.IDirectoryGrain>(0).GetShardMap() ?? throw new InvalidOperationException("no shard map");

    public Storage.Shards.IShardReplicaGrain Replica(int shard, long replica) =>
        Client.GetGrain<Storage.Shards.IShardReplicaGrain>(new ReplicaKey(shard, replica).ToString());

    /// <summary>A key that the map puts in <paramref name="shard"/>.</summary>
    public static string KeyInShard(ShardMap map, int shard, string prefix, int n = 0)
    {
        var found = 0;
        for (var i = 0; ; i++)
        {
            var key = $"{prefix}{i}";
            if (map.ShardFor(key).ShardId == shard && found++ == n)
            {
                return key;
            }
        }
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<InProcessSiloHandle, string> Names = new();

    /// <summary>
    /// The silo's identity in the shard map (<see cref="Storage.Directory.SiloKeys"/>): the name it runs under, which a
    /// test may have set to an earlier silo's name to restart "the same silo". Remembered while the silo runs, so it
    /// can still be asked after the silo was stopped or killed.
    /// </summary>
    public static string KeyOf(InProcessSiloHandle silo) =>
        Names.GetValue(silo, s =>
        {
            try
            {
                return s.SiloHost.Services.GetRequiredService<ILocalSiloDetails>().Name;
            }
            catch (ObjectDisposedException)
            {
                return s.Name; // stopped before anyone asked: the test cluster's own name for it
            }
        });

    /// <summary>The handle of the silo whose shard-map identity is <paramref name="siloKey"/>.</summary>
    public InProcessSiloHandle SiloFor(string siloKey) =>
        Cluster.Silos.Single(s => KeyOf(s) == siloKey);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
        }
        catch (Exception)
        {
            // A silo killed by a test may fail to stop again.
        }

        await Cluster.DisposeAsync();
    }
}
