using System.Collections.Concurrent;
using System.Diagnostics;

namespace Storage.LocalCluster;

/// <summary>
/// Starts every silo process from one dedicated, long-lived thread, each under <c>setpriv --pdeathsig TERM</c>
/// when the machine has it, so that silos get SIGTERM (and stop gracefully) if the launcher dies — even by
/// SIGKILL, when no cleanup code of ours can run.
/// </summary>
/// <remarks>
/// Linux sends the parent-death signal when the <em>thread</em> that forked the child exits, not the process.
/// .NET forks on the thread that calls <see cref="Process.Start()"/>; from a thread-pool thread, the pool
/// retiring that thread would SIGTERM a healthy silo. So all forks happen here, on a thread that lives as long
/// as the cluster. Without setpriv the launcher still cleans up on SIGINT/SIGTERM, and the pid file lets the
/// next start kill silos a killed launcher left behind.
/// </remarks>
internal sealed class ProcessSpawner : IDisposable
{
    private static readonly Lazy<string?> PdeathsigWrapper = new(FindWrapper);
    private readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Done)> _queue = new();
    private readonly Thread _thread;

    public ProcessSpawner()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "local-cluster-spawner" };
        _thread.Start();
    }

    /// <summary>The setpriv binary when it supports --pdeathsig, else null.</summary>
    public static string? Wrapper => PdeathsigWrapper.Value;

    /// <summary>
    /// Starts <paramref name="file"/> with <paramref name="args"/>, stdout and stderr appended to <paramref name="logFile"/>
    /// and stdin from /dev/null. The shell and setpriv exec in place, so the returned process (and pid) is the program itself.
    /// </summary>
    public Task<Process> StartAsync(string file, IEnumerable<string> args, string logFile, string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        // The log path and the command travel as positional arguments: nothing is spliced into shell text.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null");
        start.ArgumentList.Add("storage-silo");
        start.ArgumentList.Add(logFile);
        if (Wrapper is { } setpriv)
        {
            start.ArgumentList.Add(setpriv);
            start.ArgumentList.Add("--pdeathsig");
            start.ArgumentList.Add("TERM");
            start.ArgumentList.Add("--");
        }

        start.ArgumentList.Add(file);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var done = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.Add((start, done));
        }
        catch (InvalidOperationException)
        {
            done.SetException(new ObjectDisposedException(nameof(ProcessSpawner)));
        }

        return done.Task;
    }

    /// <summary>Ends the thread. Call only once every process it started has stopped: its exit signals them.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }

    private void Run()
    {
        foreach (var (start, done) in _queue.GetConsumingEnumerable())
        {
            try
            {
                done.SetResult(Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}"));
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }
    }

    private static string? FindWrapper()
    {
        foreach (var candidate in new[] { "/usr/bin/setpriv", "/bin/setpriv" })
        {
            if (!File.Exists(candidate))
            {
                continue;
            }

            try
            {
                // Old util-linux has setpriv without --pdeathsig: try it once.
                using var probe = Process.Start(new ProcessStartInfo(candidate, ["--pdeathsig", "TERM", "--", "true"])
                {
                    UseShellExecute = false,
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                });
                if (probe is not null && probe.WaitForExit(5000) && probe.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not runnable: try the next.
            }
        }

        return null;
    }
}
