using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Storage.LocalCluster;

/// <summary>
/// Cleans up after a launcher that died without stopping what it started (kill -9, OOM, power cut): its state file
/// names the silos (pid and start time) and the PostgreSQL server it started. Called with the launcher lock held, so
/// the launcher that wrote the file is certainly gone.
/// </summary>
internal static partial class StaleProcesses
{
    /// <summary>Stops whatever the state file lists that still runs, then deletes the file.</summary>
    public static async Task StopAsync(string stateFile, TimeSpan stopTimeout, ILogger logger)
    {
        if (LauncherState.Read(stateFile) is not { } stale)
        {
            return;
        }

        foreach (var record in stale.Silos)
        {
            if (Posix.StartTime(record.Pid) == record.StartTime && Posix.Exists(record.Pid))
            {
                LogStaleSilo(logger, record.Name, record.Pid, stale.LauncherPid);
                Posix.Signal(record.Pid, Posix.SigCont);
                Posix.Signal(record.Pid, Posix.SigTerm);
                if (!await Posix.WaitGoneAsync(record.Pid, stopTimeout).ConfigureAwait(false))
                {
                    Posix.Signal(record.Pid, Posix.SigKill);
                    await Posix.WaitGoneAsync(record.Pid, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
            }
        }

        if (stale.Postgres is { } server && Posix.Exists(server.PostmasterPid) && PostmasterPid(server.DataDirectory) == server.PostmasterPid)
        {
            // SIGINT is PostgreSQL's fast shutdown (what pg_ctl stop -m fast sends). Starting afresh makes this
            // launcher the owner, so that its own stop stops the server again.
            LogStalePostgres(logger, server.PostmasterPid, server.DataDirectory);
            Posix.Signal(server.PostmasterPid, Posix.SigInt);
            if (!await Posix.WaitGoneAsync(server.PostmasterPid, TimeSpan.FromSeconds(60)).ConfigureAwait(false))
            {
                throw new LocalClusterException(
                    $"The PostgreSQL server a previous launcher left running (pid {server.PostmasterPid}, data {server.DataDirectory}) did not stop within 60 s; stop it by hand.");
            }
        }

        TryDelete(stateFile);
    }

    /// <summary>The postmaster's pid from the first line of postmaster.pid, or null when no server runs there.</summary>
    public static int? PostmasterPid(string dataDirectory)
    {
        try
        {
            using var reader = new StreamReader(Path.Combine(dataDirectory, "postmaster.pid"));
            return int.TryParse(reader.ReadLine(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Deletes a file, ignoring failure: stale state is harmless, every pid in it is checked against its start time.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Stale state is harmless: the next start checks every pid against its start time.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping {Silo} (pid {Pid}), left running by launcher pid {Launcher} which did not stop cleanly")]
    private static partial void LogStaleSilo(ILogger logger, string silo, int pid, int launcher);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping the PostgreSQL server (pid {Pid}, data {DataDirectory}) that a previous launcher left running; starting it afresh")]
    private static partial void LogStalePostgres(ILogger logger, int pid, string dataDirectory);
}
