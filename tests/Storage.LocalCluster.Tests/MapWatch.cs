using System.Collections.Concurrent;
using Storage.Directory;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// Follows the directory's shard map while the cluster changes shape and counts the replica moves each new version
/// made: a replica id that changed silo (a relocation) or a replica id that appeared in an existing shard (a
/// replacement: learner, catch-up, promote, remove; counted once, when the new replica appears). It polls often
/// enough to see every version the rebalancer publishes (one step per pass, a pass a second); a version it did not
/// see is counted in <see cref="SkippedVersions"/>, and moves across a skip are counted from the net difference.
/// </summary>
internal sealed class MapWatch : IAsyncDisposable
{
    private readonly IDirectoryGrain _directory;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<MapStep> _steps = new();
    private readonly Task _loop;
    private ShardMap? _last;
    private int _skipped;
    private int _errors;

    public MapWatch(IClusterClient client, ShardMap start)
    {
        _directory = client.GetGrain<IDirectoryGrain>(0);
        _last = start;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Every version change seen, in order.</summary>
    public IReadOnlyList<MapStep> Steps => _steps.ToList();

    /// <summary>Versions published but never seen (their moves are in the next step seen, as a net difference).</summary>
    public int SkippedVersions => Volatile.Read(ref _skipped);

    public ShardMap? Latest => Volatile.Read(ref _last);

    /// <summary>Polls that failed (the directory moving, a gateway gone), and the last failure.</summary>
    public int Errors => Volatile.Read(ref _errors);

    public string? LastError { get; private set; }

    /// <summary>The moves made by versions in (<paramref name="after"/>, <paramref name="upTo"/>].</summary>
    public IReadOnlyList<string> MovesBetween(long after, long upTo) =>
        Steps.Where(s => s.Version > after && s.Version <= upTo).SelectMany(s => s.Moves).ToList();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    /// <summary>The moves between two maps, described ("shard 3: replica 7 silo-0 -> silo-4").</summary>
    public static IReadOnlyList<string> Diff(ShardMap before, ShardMap after)
    {
        var old = before.Shards.SelectMany(s => s.Replicas.Select(r => (Shard: s.ShardId, Replica: r))).ToDictionary(x => x.Replica.ReplicaId);
        var shards = before.Shards.Select(s => s.ShardId).ToHashSet();
        var moves = new List<string>();
        foreach (var shard in after.Shards)
        {
            foreach (var replica in shard.Replicas)
            {
                if (old.TryGetValue(replica.ReplicaId, out var was))
                {
                    if (was.Replica.SiloKey != replica.SiloKey)
                    {
                        moves.Add($"shard {shard.ShardId}: replica {replica.ReplicaId} {was.Replica.SiloKey} -> {replica.SiloKey} (relocate)");
                    }
                }
                else if (shards.Contains(shard.ShardId))
                {
                    // A new shard's replicas come from a split, which moves nothing.
                    moves.Add($"shard {shard.ShardId}: new replica {replica.ReplicaId} on {replica.SiloKey} (replace)");
                }
            }
        }

        return moves;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var map = await _directory.GetShardMap().WaitAsync(TimeSpan.FromSeconds(5), _stop.Token);
                var last = _last!;
                if (map is not null && map.Version > last.Version)
                {
                    if (map.Version > last.Version + 1)
                    {
                        Interlocked.Add(ref _skipped, (int)(map.Version - last.Version - 1));
                    }

                    _steps.Enqueue(new MapStep(map.Version, DateTime.UtcNow, Diff(last, map)));
                    Volatile.Write(ref _last, map);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The directory is moving (its silo left) or the gateway went away: ask again. Counted and shown, so that
                // a watch that saw nothing for a long time says why.
                Interlocked.Increment(ref _errors);
                LastError = $"{e.GetType().Name}: {e.Message}";
            }

            try
            {
                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>One new map version and the moves it made.</summary>
internal sealed record MapStep(long Version, DateTime SeenAt, IReadOnlyList<string> Moves);
