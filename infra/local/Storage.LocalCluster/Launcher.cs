using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Storage.LocalCluster;

/// <summary>Starts the cluster, prints where it is, waits for a stop signal and stops it.</summary>
internal static class Launcher
{
    public static async Task<int> RunAsync(LocalClusterOptions options)
    {
        using var loggerFactory = LoggerFactory.Create(b => b
            .SetMinimumLevel(LogLevel.Information)
            .AddConsole(o => o.FormatterName = LauncherConsoleFormatter.FormatterName)
            .AddConsoleFormatter<LauncherConsoleFormatter, ConsoleFormatterOptions>());
        var logger = loggerFactory.CreateLogger("local-cluster");

        // First signal: stop gracefully. A second one while stopping: leave at once (silos still get SIGTERM from the
        // kernel through their parent-death signal; the next start cleans up the rest).
        using var stop = new CancellationTokenSource();
        var signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.Increment(ref signals) == 1)
            {
                context.Cancel = true;
                Console.Error.WriteLine($"{Environment.NewLine}{context.Signal} received: stopping the silos and PostgreSQL (again to exit at once)...");
                stop.Cancel();
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);

        if (!LocalCluster.SilosDieWithLauncher)
        {
            logger.LogWarning("setpriv with --pdeathsig not found: if this launcher is killed (kill -9), its silos keep running until the next start on this data folder stops them");
        }

        LocalCluster cluster;
        try
        {
            cluster = await LocalCluster.StartAsync(options, logger, stop.Token);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Whatever the start was doing failed because of the stop (a terminal's Ctrl-C also reaches the silos).
            await Console.Error.WriteLineAsync("local cluster: interrupted while starting; everything it had started is stopped.");
            return 130;
        }
        catch (LocalClusterException e)
        {
            await Console.Error.WriteLineAsync($"local cluster: {e.Message}");
            return 1;
        }

        await using (cluster)
        {
            try
            {
                Console.Write(ClusterSummary.Format(cluster, await cluster.GetStatusAsync()));
            }
            catch (Exception e) when (e is TimeoutException or StorageException or OrleansException)
            {
                logger.LogWarning("The cluster is up but its status could not be read for the summary: {Reason}", e.Message);
            }

            await WatchAsync(cluster, logger, stop.Token);
        }

        Console.WriteLine("Stopped.");
        return 0;
    }

    /// <summary>Reports silos that exit on their own while the cluster runs (the others carry on).</summary>
    private static async Task WatchAsync(LocalCluster cluster, ILogger logger, CancellationToken ct)
    {
        var reported = new HashSet<(int Silo, int Pid)>();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(1000, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (var silo in cluster.Silos)
            {
                if (silo.ExitCode is { } code && reported.Add((silo.Index, silo.Pid)))
                {
                    logger.LogWarning(
                        "{Silo} (pid {Pid}) exited with code {Code}; the others keep running. Last lines of {Log}:{NewLine}{Tail}",
                        silo.Name, silo.Pid, code.ToString(CultureInfo.InvariantCulture), silo.LogFile, Environment.NewLine, LocalCluster.Tail(silo.LogFile, 15));
                }
            }
        }
    }
}
