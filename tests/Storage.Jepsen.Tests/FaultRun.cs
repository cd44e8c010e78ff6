using Storage.Consistency;
using Storage.Faults;
using Storage.TestKit;

namespace Storage.Jepsen.Tests;

/// <summary>The outcome of one fault run.</summary>
internal sealed record FaultRunReport(int Seed, int Operations, int Unknown, int Faults, IReadOnlyDictionary<string, int> FaultKinds, CheckResult Check, int LostWrites, string Log)
{
    public bool Passed => Check.IsLinearizable && LostWrites == 0;
}

/// <summary>
/// One Jepsen-style run: clients on a fresh key set while the nemesis injects faults; then heal, read
/// every key linearizably, check the whole history and that every acknowledged write is still there.
/// </summary>
internal static class FaultRun
{
    public static async Task<FaultRunReport> RunAsync(
        StorageCluster cluster,
        FaultController faults,
        int seed,
        int operationsPerClient,
        int clients = 6,
        int keyCount = 3,
        bool nemesis = true,
        ReadConsistency readConsistency = ReadConsistency.Linearizable,
        Action? duringRun = null)
    {
        var rng = new Random(seed);
        var log = new System.Text.StringBuilder();
        var keys = Enumerable.Range(0, keyCount).Select(i => $"jepsen/{seed}/k{i}").ToArray();
        var history = new HistoryRecorder();
        var workload = new Workload(cluster.Store, history, keys, readConsistency);
        using var stop = new CancellationTokenSource();
        var chaos = new Nemesis(cluster, faults, new Random(rng.Next()), line => log.AppendLine(line));
        var nemesisTask = nemesis ? chaos.RunAsync(stop.Token) : Task.CompletedTask;
        duringRun?.Invoke();

        var clientTasks = Enumerable.Range(0, clients)
            .Select(c => Task.Run(() => workload.ClientAsync(c, new Random(rng.Next()), operationsPerClient, CancellationToken.None)))
            .ToArray();
        await Task.WhenAll(clientTasks);
        await stop.CancelAsync();
        await nemesisTask;
        faults.HealAll();

        // After healing: the cluster must come back, and the final reads must see every acknowledged write.
        await cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var finals = new Workload(cluster.Store, history, keys);
        foreach (var key in keys)
        {
            await finals.GetAsync(clients, key);
        }

        var recorded = history.ToHistory();
        var check = LinearizabilityChecker.Check(recorded);
        var lost = CountLostWrites(recorded, keys, clients);
        return new FaultRunReport(
            seed,
            recorded.Count,
            recorded.Count(r => r.Outcome == OperationOutcome.Unknown),
            chaos.Injected,
            chaos.ByKind,
            check,
            lost,
            log.ToString());
    }

    /// <summary>
    /// Acknowledged writes whose version is newer than what the final read of their key returned (versions
    /// only grow, so such a write was lost). A redundant, blunt check beside the linearizability checker.
    /// </summary>
    private static int CountLostWrites(History history, string[] keys, int finalClient)
    {
        var lost = 0;
        foreach (var key in keys)
        {
            var final = history.LastOrDefault(r => r.Key == key && r.Client == finalClient && r.Operation.Kind == OperationKind.Get && r.Outcome == OperationOutcome.Ok);
            if (final?.Result is not { } read)
            {
                lost++; // the final read itself failed: nothing can be vouched for
                continue;
            }

            if (!read.Found)
            {
                continue; // a delete may have been the last write; the checker covers this case
            }

            lost += history.Count(r => r.Key == key && r.Outcome == OperationOutcome.Ok && r.Operation.IsWrite
                && r.Result is { Kind: ResultKind.Written } w && w.Version > read.Version);
        }

        return lost;
    }
}
