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
    private readonly StorageCluster _cluster;
    private readonly FaultController _faults;
    private readonly Random _rng;
    private readonly Action<string> _log;

    public Nemesis(StorageCluster cluster, FaultController faults, Random rng, Action<string> log)
    {
        _cluster = cluster;
        _faults = faults;
        _rng = rng;
        _log = log;
    }

    public int Injected { get; private set; }

    public Dictionary<string, int> ByKind { get; } = new();

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Pause(_rng.Next(200, 600), stop);
            if (stop.IsCancellationRequested)
            {
                break;
            }

            var kind = _rng.Next(100) switch
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
                _log($"{kind} not injected: {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                _faults.HealAll();
            }
        }
    }

    private async Task InjectAsync(string kind, CancellationToken stop)
    {
        var silos = _cluster.Cluster.Silos.Select(StorageCluster.KeyOf).ToList();
        var victim = silos[_rng.Next(silos.Count)];
        var hold = _rng.Next(800, 3000);
        switch (kind)
        {
            case "kill":
                _log($"kill silo {victim} and start a replacement");
                await _cluster.Cluster.KillSiloAsync(_cluster.SiloFor(victim));
                await _cluster.Cluster.StartAdditionalSiloAsync();
                break;
            case "partition":
            case "partition-raft":
                _log($"{kind} {victim} | rest for {hold} ms");
                _faults.Partition(new[] { victim }, silos.Where(s => s != victim), raftOnly: kind == "partition-raft");
                await Pause(hold, stop);
                break;
            case "one-way":
                var other = silos.Where(s => s != victim).ElementAt(_rng.Next(silos.Count - 1));
                _log($"one-way {victim} -> {other} lost for {hold} ms");
                _faults.Block(victim, other);
                await Pause(hold, stop);
                break;
            case "delay":
                var delay = TimeSpan.FromMilliseconds(_rng.Next(20, 150));
                _log($"delay {delay.TotalMilliseconds} ms on links from {victim} for {hold} ms");
                foreach (var s in silos.Where(s => s != victim))
                {
                    _faults.Delay(victim, s, delay);
                    _faults.Delay(s, victim, delay);
                }

                await Pause(hold, stop);
                break;
            default:
                var status = await _cluster.Store.GetStatusAsync();
                var shard = status.Shards[_rng.Next(status.Shards.Count)];
                var replica = shard.LeaderReplica != 0 && _rng.Next(2) == 0 ? shard.LeaderReplica : shard.Replicas[_rng.Next(shard.Replicas.Count)].ReplicaId;
                var key = $"{shard.ShardId}/{replica}";
                _log($"pause replica {key} for {hold} ms");
                _faults.Pause(key);
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
