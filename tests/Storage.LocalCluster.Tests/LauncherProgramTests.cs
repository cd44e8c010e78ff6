using System.Net;
using System.Net.Sockets;
using Xunit;
using Xunit.Abstractions;

namespace Storage.LocalCluster.Tests;

/// <summary>The launcher program (run as a process, as run.sh does) refuses bad settings quickly and says why.</summary>
public sealed class LauncherProgramTests
{
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(30);
    private readonly ITestOutputHelper _output;

    public LauncherProgramTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task ATakenPortFailsBeforeAnythingStartsAndNamesThePort()
    {
        using var temp = new TempDirectory("lc-port");
        var basePort = TestClusters.FreeBasePort();
        var taken = basePort + 100 + 1; // silo-1's gateway
        using var squatter = new TcpListener(IPAddress.Loopback, taken);
        squatter.Start();

        var run = await RunLauncherAsync("--data-dir", temp.Path, "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--postgres-port", "0");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"gateway port {taken} of silo-1", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("already in use", run.Stderr, StringComparison.Ordinal);
        Assert.True(run.Elapsed < FailFast, $"took {run.Elapsed}");
        // It failed before starting PostgreSQL or any silo, and left no state behind.
        Assert.False(System.IO.Directory.Exists(Path.Combine(temp.Path, "postgres")), "PostgreSQL was initialised despite the clash");
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(temp.Path, "logs")));
        Assert.False(File.Exists(Path.Combine(temp.Path, "local-cluster.json")));
    }

    [Theory]
    [InlineData("--silos 0", "--silos must be between 1 and 20 (got 0)")]
    [InlineData("--silos 3 --silo-port 21000 --gateway-port 21001", "--silo-port 21000 and --gateway-port 21001 overlap for 3 silos")]
    [InlineData("--setting Storage:Directory:InitialShards", "--setting 'Storage:Directory:InitialShards' is not KEY=VALUE")]
    [InlineData("--connection-string Host=x;Bogus=1", "--connection-string is not a valid PostgreSQL connection string")]
    public async Task AnInvalidSettingFailsWithExitCode2AndSaysWhich(string args, string message)
    {
        using var temp = new TempDirectory("lc-bad");
        var run = await RunLauncherAsync([.. args.Split(' '), "--data-dir", temp.Path]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.True(run.Elapsed < FailFast, $"took {run.Elapsed}");
        Assert.Empty(System.IO.Directory.GetFileSystemEntries(temp.Path));
    }

    private async Task<(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)> RunLauncherAsync(params string[] args)
    {
        using var launcher = LauncherProcess.Start(args);
        var exitCode = await launcher.WaitForExitAsync(TimeSpan.FromSeconds(90));
        _output.WriteLine($"exit {exitCode} after {launcher.Elapsed.TotalSeconds:0.0} s\n{launcher}");
        return (exitCode, launcher.Stdout, launcher.Stderr, launcher.Elapsed);
    }
}
