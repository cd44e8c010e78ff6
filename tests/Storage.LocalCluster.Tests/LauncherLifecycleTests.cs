using System.Globalization;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Storage.LocalCluster.Tests;

/// <summary>
/// The launcher program's own lifecycle: kill -9 of the launcher takes its silos with it (parent-death signal), the
/// next start stops the PostgreSQL it left behind and takes over, and SIGTERM stops everything with exit code 0.
/// </summary>
public sealed class LauncherLifecycleTests
{
    private const int Silos = 2;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(150);
    private readonly ITestOutputHelper _output;

    public LauncherLifecycleTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task AKilledLauncherLeavesNoSiloAndTheNextStartCleansUpAndStopsOnSigterm()
    {
        using var temp = new TempDirectory("lc-life");
        // Two silos and two shards: this is about processes, not replication, and each start costs CPU time.
        var basePort = TestClusters.FreeBasePort(Silos);
        string[] args =
        [
            "--silos", Silos.ToString(CultureInfo.InvariantCulture), "--data-dir", temp.Path, "--base-port", basePort.ToString(CultureInfo.InvariantCulture),
            "--postgres-port", "0", "--setting", "Storage:Directory:InitialShards=2",
        ];
        var stateFile = Path.Combine(temp.Path, "local-cluster.json");

        // 1. Start, then kill -9 the launcher: no cleanup code of it runs.
        int[] firstSilos;
        int postmaster;
        using (var first = LauncherProcess.Start(args))
        {
            Assert.True(await first.WaitForOutputAsync("Press Ctrl-C", StartTimeout), $"the first launcher did not start:\n{first}");
            (firstSilos, postmaster) = ReadState(stateFile);
            Assert.Equal(Silos, firstSilos.Length);
            first.Kill();
            _output.WriteLine($"killed launcher {first.Pid}; its silos were {string.Join(", ", firstSilos)}, PostgreSQL {postmaster}");
        }

        // 2. The silos go too (SIGTERM from the kernel, then their own graceful shutdown, at most 25 s).
        var gone = await WaitGoneAsync(firstSilos, TimeSpan.FromSeconds(40));
        Assert.True(gone, $"silos outlived their launcher: {string.Join(", ", firstSilos.Where(Alive))}");
        Assert.True(Alive(postmaster), "PostgreSQL is a daemon: it is expected to outlive a killed launcher, for the next start to clean up");

        // 3. The next start stops that server and starts it afresh (so that its own stop stops it).
        using var second = LauncherProcess.Start(args);
        Assert.True(await second.WaitForOutputAsync("Press Ctrl-C", StartTimeout), $"the second launcher did not start:\n{second}");
        Assert.Contains($"Stopping the PostgreSQL server (pid {postmaster}", second.Stdout, StringComparison.Ordinal);
        Assert.False(Alive(postmaster), "the stale PostgreSQL still runs");
        var (secondSilos, secondPostmaster) = ReadState(stateFile);

        // 4. SIGTERM (what a service manager sends): a graceful stop of everything, exit code 0.
        second.Signal("TERM");
        var exitCode = await second.WaitForExitAsync(TimeSpan.FromSeconds(90));
        _output.WriteLine(second.ToString());
        Assert.Equal(0, exitCode);
        Assert.Contains("Stopped.", second.Stdout, StringComparison.Ordinal);
        Assert.True(await WaitGoneAsync([.. secondSilos, secondPostmaster], TimeSpan.FromSeconds(5)), "processes outlived the stopped launcher");
        Assert.False(File.Exists(stateFile), "a clean stop leaves no state behind");
        Assert.All(
            Enumerable.Range(0, Silos).SelectMany(i => new[] { basePort + i, basePort + 100 + i, basePort + 200 + i }),
            port => Assert.True(TestClusters.IsFree(port), $"port {port} still taken"));
    }

    private static (int[] Silos, int Postmaster) ReadState(string stateFile)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(stateFile));
        var silos = state.RootElement.GetProperty("Silos").EnumerateArray().Select(s => s.GetProperty("Pid").GetInt32()).ToArray();
        var postmaster = state.RootElement.GetProperty("Postgres").GetProperty("PostmasterPid").GetInt32();
        return (silos, postmaster);
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitGoneAsync(IEnumerable<int> pids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (pids.Any(Alive))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }

        return true;
    }
}
