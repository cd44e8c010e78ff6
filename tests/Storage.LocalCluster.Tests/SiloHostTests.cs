using System.Diagnostics;
using Xunit;

namespace Storage.LocalCluster.Tests;

/// <summary>The silo process itself: bad configuration and an unreachable database fail fast with one clear line.</summary>
public sealed class SiloHostTests
{
    private static (int ExitCode, string Stderr) RunSilo(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Storage.Silo.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the silo did not exit within 60 s");
        }

        return (process.ExitCode, stderr.Result);
    }

    [Fact]
    public void AnInvalidPortNamesTheSettingAndExitsWithTwo()
    {
        var (code, stderr) = RunSilo("--Storage:SiloPort=70000");
        Assert.Equal(2, code);
        Assert.Contains("Storage:SiloPort must be a TCP port between 1 and 65535 (got 70000)", stderr);
    }

    [Fact]
    public void WithoutAConnectionStringTheSiloPointsAtTheLocalClusterAndExitsWithTwo()
    {
        // The production host has no embedded PostgreSQL: that is the launcher's job (infra/local/run.sh).
        var (code, stderr) = RunSilo($"--Storage:SiloPort={Storage.Development.FreePorts.One()}", $"--Storage:GatewayPort={Storage.Development.FreePorts.One()}", $"--Storage:HttpPort={Storage.Development.FreePorts.One()}");
        Assert.Equal(2, code);
        Assert.Contains("storage silo: invalid configuration: Storage:ConnectionString is required", stderr);
        Assert.Contains("infra/local/run.sh", stderr);
    }

    [Fact]
    public void EveryInvalidSettingIsReportedOnALineOfItsOwn()
    {
        var (code, stderr) = RunSilo(
            "--Storage:ConnectionString=Host=127.0.0.1;Port=1;Database=x;Username=u",
            "--Storage:Directory:ReplicationFactor=0",
            "--Storage:Replica:ElectionTicks=2",
            "--Storage:Database:MaxPoolSize=0");
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("storage silo: invalid configuration: Storage:Directory:ReplicationFactor must be between 1 and 7 (got 0)", lines);
        Assert.Contains("storage silo: invalid configuration: Storage:Replica:ElectionTicks must be greater than HeartbeatTicks (2) (got 2)", lines);
        Assert.Contains("storage silo: invalid configuration: Storage:Database:MaxPoolSize must be at least 1 (got 0)", lines);
    }

    [Fact]
    public void AnInvalidReplicationFactorNamesTheSetting()
    {
        var (code, stderr) = RunSilo("--Storage:ConnectionString=Host=127.0.0.1;Port=1;Database=x;Username=u", "--Storage:Directory:ReplicationFactor=0");
        Assert.Equal(2, code);
        Assert.Contains("storage silo: invalid configuration: Storage:Directory:ReplicationFactor must be between 1 and 7 (got 0)", stderr);
    }

    [Fact]
    public void AnUnreachableDatabaseIsReportedWithoutThePassword()
    {
        var port = Storage.Development.FreePorts.One();
        var (code, stderr) = RunSilo($"--Storage:ConnectionString=Host=127.0.0.1;Port={port};Database=nowhere;Username=u;Password=s3cret", $"--Storage:SiloPort={Storage.Development.FreePorts.One()}", $"--Storage:GatewayPort={Storage.Development.FreePorts.One()}", $"--Storage:HttpPort={Storage.Development.FreePorts.One()}");
        Assert.Equal(3, code);
        Assert.Contains($"storage silo: Cannot connect to PostgreSQL at host '127.0.0.1', port {port}, database 'nowhere'", stderr);
        Assert.DoesNotContain("s3cret", stderr);
    }
}
