using Storage.Development;
using Storage.LocalCluster;

namespace Storage.Jepsen.Tests;

/// <summary>
/// Faults on real processes: kill -9 and restart of a silo process, SIGSTOP/SIGCONT pauses, and a
/// restart of the PostgreSQL server under the cluster. One at a time, healed before the next.
/// </summary>
internal sealed class ProcessNemesis
{
    private readonly LocalCluster.LocalCluster _cluster;
    private readonly Random _rng;
    private readonly Action<string> _log;

    public ProcessNemesis(LocalCluster.LocalCluster cluster, Random rng, Action<string> log)
    {
        _cluster = cluster;
        _rng = rng;
        _log = log;
    }

    /// <summary>The server that replaced the launcher's after a database restart (stopped by the test).</summary>
    public EmbeddedPostgres? RestartedPostgres { get; private set; }

    public int Injected { get; private set; }

    public Dictionary<string, int> ByKind { get; } = new();

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Sleep(_rng.Next(300, 800), stop);
            if (stop.IsCancellationRequested)
            {
                break;
            }

            var silo = _rng.Next(_cluster.Silos.Count);
            var hold = _rng.Next(800, 2500);
            var kind = _rng.Next(100) switch
            {
                < 45 => "kill-9",
                < 85 => "sigstop",
                _ => "postgres-restart",
            };
            _log($"{kind} {(kind == "postgres-restart" ? "" : _cluster.Silo(silo).Name)} for {hold} ms");
            switch (kind)
            {
                case "kill-9":
                    _cluster.KillSilo(silo);
                    await Sleep(hold, CancellationToken.None);
                    await _cluster.RestartSiloAsync(silo);
                    break;
                case "sigstop":
                    _cluster.PauseSilo(silo);
                    await Sleep(hold, CancellationToken.None);
                    _cluster.ResumeSilo(silo);
                    break;
                default:
                    var current = RestartedPostgres ?? _cluster.Postgres ?? throw new InvalidOperationException("no embedded PostgreSQL to restart");
                    await current.StopAsync();
                    await Sleep(hold, CancellationToken.None);
                    RestartedPostgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
                    {
                        DataDirectory = current.DataDirectory,
                        Port = current.Port,
                        Database = current.Database,
                        Durable = false,
                    });
                    break;
            }

            Injected++;
            ByKind[kind] = ByKind.GetValueOrDefault(kind) + 1;
        }
    }

    private static async Task Sleep(int ms, CancellationToken stop)
    {
        try
        {
            await Task.Delay(ms, stop);
        }
        catch (OperationCanceledException)
        {
            // the run is over
        }
    }
}
