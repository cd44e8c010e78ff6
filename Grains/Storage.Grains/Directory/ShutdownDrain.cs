using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Storage.Directory;

/// <summary>
/// Scale-in is a drain. When the silo stops gracefully it asks the directory to drain it (a "leaving" drain, which
/// ends by itself when a silo of this name joins again) and waits until the map puts no replica here — or until
/// nothing more can move, or <see cref="DrainOptions.Timeout"/> — before the silo goes on stopping (its remaining
/// leaders are then handed off by <see cref="Shards.LeadershipHandoff"/>, which stops after this). On start it tells
/// the directory it has joined, which ends a leaving drain of its name.
/// </summary>
public sealed partial class ShutdownDrain : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly IGrainFactory _grains;
    private readonly ILocalSiloDetails _local;
    private readonly DrainOptions _options;
    private readonly DirectoryOptions _directory;
    private readonly ILogger<ShutdownDrain> _logger;

    public ShutdownDrain(IGrainFactory grains, ILocalSiloDetails local, IOptions<DrainOptions> options, IOptions<DirectoryOptions> directory, ILogger<ShutdownDrain> logger)
    {
        _grains = grains;
        _local = local;
        _options = options.Value;
        _directory = directory.Value;
        _logger = logger;
    }

    // One stage above the leadership hand-off: stages stop in reverse order, so the drain runs first, while the
    // silo is still fully active and can hand its replicas over.
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ShutdownDrain), ServiceLifecycleStage.Active + 1, OnStartAsync, OnStopAsync);

    private async Task OnStartAsync(CancellationToken ct)
    {
        try
        {
            await Directory.Joined(SiloKeys.Of(_local)).WaitAsync(TimeSpan.FromSeconds(10), ct);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or StorageException)
        {
            // The directory also ends a leaving drain when it sees this silo active on its own; this only saves time.
            LogJoinNotice(e.Message);
        }
    }

    private async Task OnStopAsync(CancellationToken ct)
    {
        // A stop whose token is already cancelled is not graceful (the host gave it no time, or a test "kills" the
        // silo this way): asking for a drain then would empty a silo that is about to vanish like a crashed one.
        if (!_options.OnShutdown || ct.IsCancellationRequested)
        {
            return;
        }

        var me = SiloKeys.Of(_local);
        var deadline = DateTime.UtcNow + _options.Timeout;
        try
        {
            await Directory.Drain(me, leaving: true).WaitAsync(TimeSpan.FromSeconds(10), ct);
            var started = DateTime.UtcNow;
            var lastProgress = DateTime.UtcNow;
            var left = int.MaxValue;

            // Nothing moved for this long while replicas are left: no other silo can take them (e.g. RF silos only).
            var stallAfter = _directory.RebalancePeriod * 5 + TimeSpan.FromSeconds(2);
            while (DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                var map = await Directory.GetShardMap().WaitAsync(TimeSpan.FromSeconds(10), ct);
                var placement = await Directory.GetPlacement().WaitAsync(TimeSpan.FromSeconds(10), ct);
                var here = map?.Shards.Sum(s => s.Replicas.Count(r => r.SiloKey == me)) ?? 0;
                var moving = placement.Moves.Count(m => m.From == me);
                if (here == 0 && moving == 0)
                {
                    LogDrained(me, (DateTime.UtcNow - started).TotalSeconds);
                    return;
                }

                if (here + moving < left)
                {
                    left = here + moving;
                    lastProgress = DateTime.UtcNow;
                }
                else if (moving == 0 && DateTime.UtcNow - lastProgress > stallAfter)
                {
                    LogStalled(me, here);
                    return;
                }

                await Task.Delay(_directory.RebalancePeriod, ct);
            }

            LogTimedOut(me, left, _options.Timeout.TotalSeconds);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or StorageException or OperationCanceledException)
        {
            LogDrainFailed(me, e.Message);
        }
    }

    private IDirectoryGrain Directory => _grains.GetGrain<IDirectoryGrain>(0);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: silo {Silo} drained in {Seconds:0.0} s (no replica is placed here)")]
    private partial void LogDrained(string silo, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: silo {Silo} keeps {Left} replicas: no other silo can take them; they will run as stand-ins elsewhere")]
    private partial void LogStalled(string silo, int left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: silo {Silo} still had {Left} replicas to move after {Seconds} s (Storage:Drain:Timeout); stopping anyway")]
    private partial void LogTimedOut(string silo, int left, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: could not drain silo {Silo}: {Reason}; stopping anyway")]
    private partial void LogDrainFailed(string silo, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not tell the directory this silo joined: {Reason}")]
    private partial void LogJoinNotice(string reason);
}
