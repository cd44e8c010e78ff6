using Storage.Faults;
using Storage.TestKit;

namespace Storage.Jepsen.Tests;

/// <summary>
/// Injects one fault at a time into an in-process cluster while clients run: kill and replace a silo,
/// partitions between silo groups (all calls or Raft only, both ways or one way), link delays, and
/// pausing a replica. Each fault is healed before the next.
/// </summary>
internal sealed class Nemesis
{
    private readonly StorageCluster cluster;
    private readonly FaultController faults;
    private readonly Random rng;
    private readonly Action<string> log;

    public Nemesis(StorageCluster cluster, FaultController faults, Random rng, Action<string> log)
    {
        this.cluster = cluster;
        this.faults = faults;
        this.rng = rng;
        this.log = log;
    }

    public int Injected { get; private set; }

    public Dictionary<string, int> ByKind { get; } = new();

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Pause(rng.Next(200, 600), stop);
            if (stop.IsCancellationRequested)
            {
                break;
            }

            var kind = rng.Next(100) switch
            {
                < 10 => "kill",
                < 35 => "partition",
                < 50 => "partition-raft",
                < 65 => "one-way",
                < 80 => "delay",
                _ => "pause",
            };
            try
            {
                await InjectAsync(kind, stop);
                Injected++;
                ByKind[kind] = ByKind.GetValueOrDefault(kind) + 1;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or StorageException || e.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true)
            {
                // The cluster is in the middle of a fault: the nemesis itself may not reach it. Try again later.
                log($"{kind} not injected: {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                faults.HealAll();
            }
        }
    }

    private async Task InjectAsync(string kind, CancellationToken stop)
    {
        var silos = cluster.Cluster.Silos.Select(StorageCluster.KeyOf).ToList();
        var victim = silos[rng.Next(silos.Count)];
        var hold = rng.Next(800, 3000);
        switch (kind)
        {
            case "kill":
                log($"kill silo {victim} and start a replacement");
                await cluster.Cluster.KillSiloAsync(cluster.SiloFor(victim));
                await cluster.Cluster.StartAdditionalSiloAsync();
                break;
            case "partition":
            case "partition-raft":
                log($"{kind} {victim} | rest for {hold} ms");
                faults.Partition(new[] { victim }, silos.Where(s => s != victim), raftOnly: kind == "partition-raft");
                await Pause(hold, stop);
                break;
            case "one-way":
                var other = silos.Where(s => s != victim).ElementAt(rng.Next(silos.Count - 1));
                log($"one-way {victim} -> {other} lost for {hold} ms");
                faults.Block(victim, other);
                await Pause(hold, stop);
                break;
            case "delay":
                var delay = TimeSpan.FromMilliseconds(rng.Next(20, 150));
                log($"delay {delay.TotalMilliseconds} ms on links from {victim} for {hold} ms");
                foreach (var s in silos.Where(s => s != victim))
                {
                    faults.Delay(victim, s, delay);
                    faults.Delay(s, victim, delay);
                }

                await Pause(hold, stop);
                break;
            default:
                var status = await cluster.Store.GetStatusAsync();
                var shard = status.Shards[rng.Next(status.Shards.Count)];
                var replica = shard.LeaderReplica != 0 && rng.Next(2) == 0 ? shard.LeaderReplica : shard.Replicas[rng.Next(shard.Replicas.Count)].ReplicaId;
                var key = $"{shard.ShardId}/{replica}";
                log($"pause replica {key} for {hold} ms");
                faults.Pause(key);
                await Pause(hold, stop);
                break;
        }
    }

    private static async Task Pause(int ms, CancellationToken stop)
    {
        try
        {
            await Task.Delay(ms, stop);
        }
        catch (OperationCanceledException)
        {
            // the run is over; the caller heals
        }
    }
}
