using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Storage.LocalCluster.Tests;

/// <summary>Stopping the whole local cluster (silos and embedded PostgreSQL) and starting it again on the same data folder keeps the data.</summary>
public sealed class ClusterRestartTests
{
    private readonly ITestOutputHelper _output;

    public ClusterRestartTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task StoppingAndStartingTheWholeClusterKeepsEveryWriteAndLeavesNoProcessBehind()
    {
        using var temp = new TempDirectory("lc-restart");
        var options = TestClusters.Options(temp.Path, TestClusters.FreeBasePort());
        var written = new Dictionary<string, long>(StringComparer.Ordinal);
        int[] firstPids;
        string firstConnectionString;

        await using (var first = await LocalCluster.StartAsync(options, new TestOutputLogger(_output)))
        {
            firstConnectionString = first.ConnectionString;
            firstPids = first.Silos.Select(s => s.Pid).ToArray();
            var store = first.Client.GetGrain<IStore>(0);
            for (var i = 0; i < 30; i++)
            {
                var key = $"kept/{i}";
                written[key] = (await store.PutAsync(key, Encoding.UTF8.GetBytes($"v{i}"), new WriteId(Guid.NewGuid(), 1))).Version;
            }

            Assert.True((await store.DeleteAsync("kept/0", new WriteId(Guid.NewGuid(), 1))).Existed);
            written.Remove("kept/0");
            Assert.True(File.Exists(first.StateFile), "the launcher records its processes while it runs");

            // A paused (SIGSTOP) silo answers nothing, not even its probe; resumed (SIGCONT) it is ready again.
            first.PauseSilo(2);
            Assert.False(await AnswersReadyAsync(first.Silo(2)), "a paused silo answered its probe");
            first.ResumeSilo(2);
            Assert.True(await WaitReadyAsync(first.Silo(2), TimeSpan.FromSeconds(15)), "a resumed silo did not answer its probe again");

            await first.StopAsync();

            // Nothing is left running: no silo process, no PostgreSQL on the data folder, every port free again.
            Assert.All(first.Silos, s => Assert.False(s.IsRunning, $"{s.Name} still running"));
            Assert.All(firstPids, pid => Assert.False(File.Exists($"/proc/{pid}/stat") && !IsZombie(pid), $"process {pid} still exists"));
            Assert.False(File.Exists(Path.Combine(temp.Path, "postgres", "postmaster.pid")), "the embedded PostgreSQL is still running");
            Assert.All(first.Silos.SelectMany(s => new[] { s.SiloPort, s.GatewayPort, s.HttpPort }), port => Assert.True(TestClusters.IsFree(port), $"port {port} still taken"));
            Assert.False(File.Exists(first.StateFile), "a clean stop leaves no state to clean up");
        }

        await using var second = await LocalCluster.StartAsync(options, new TestOutputLogger(_output));
        Assert.NotNull(second.Postgres);
        Assert.True(second.Postgres.OwnsServer, "the second start must have started the server itself, not found the first one still running");
        Assert.DoesNotContain(second.Silos, s => firstPids.Contains(s.Pid));
        _output.WriteLine($"first run on {firstConnectionString}, second on {second.ConnectionString}");

        using var host = await LocalClusterClient.ConnectAsync(second.ConnectionString);
        var again = host.Services.GetRequiredService<IClusterClient>().GetGrain<IStore>(0);
        foreach (var (key, version) in written)
        {
            var read = await again.GetAsync(key);
            Assert.True(read.Found, $"{key} missing after the restart");
            Assert.Equal(version, read.Version);
            Assert.Equal($"v{key["kept/".Length..]}", Encoding.UTF8.GetString(read.Value!));
        }

        Assert.False((await again.GetAsync("kept/0")).Found, "a delete must survive the restart too");
        var next = await again.PutAsync("kept/1", Encoding.UTF8.GetBytes("next"), new WriteId(Guid.NewGuid(), 1));
        Assert.True(next.Version > written["kept/1"], $"version went from {written["kept/1"]} to {next.Version}");
    }

    private static async Task<bool> AnswersReadyAsync(LocalSilo silo)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(silo.ReadyUrl);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitReadyAsync(LocalSilo silo, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await AnswersReadyAsync(silo))
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }
}
