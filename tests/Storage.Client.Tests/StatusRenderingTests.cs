using System.Text.Json;
using Spectre.Console;
using Storage.Cli;
using Xunit;

namespace Storage.Client.Tests;

/// <summary>
/// <c>storage status</c> and <c>--json</c> for a cluster in motion (moves in flight, drained silos), rendered from a
/// status document: the test cluster of <see cref="CliTests"/> has nowhere to move replicas to, so it never shows any.
/// </summary>
public sealed class StatusRenderingTests
{
    private static readonly DateTime Started = new(2026, 12, 3, 17, 0, 0, DateTimeKind.Utc);

    private static ClusterStatus InMotion() => new(
        7,
        [
            new ClusterSilo("127.0.0.1:11111@1", "silo-0", "eu", "eu-1", "Active"),
            new ClusterSilo("127.0.0.1:11112@1", "silo-1", "us", "us-1", "Active"),
            new ClusterSilo("127.0.0.1:11113@1", "silo-2", "ap", "ap-1", "Active"),
            new ClusterSilo("127.0.0.1:11114@1", "silo-3", "eu", "eu-2", "Active"),
        ],
        [
            new ShardStatus(0, 1, [
                new ReplicaStatus(1, "silo-0", "Leader", 2, 10, 10, true, false),
                new ReplicaStatus(2, "silo-1", "Follower", 2, 10, 9, true, false),
                new ReplicaStatus(3, "silo-2", "Follower", 2, 10, 10, true, false),
            ]),
            new ShardStatus(1, 5, [
                new ReplicaStatus(4, "silo-0", "Follower", 3, 20, 20, true, false),
                new ReplicaStatus(5, "silo-1", "Leader", 3, 20, 20, true, false),
                new ReplicaStatus(6, "silo-2", "Follower", 3, 20, 20, true, false),
                new ReplicaStatus(9, "silo-3", "Follower", 3, 20, 18, true, true),
            ]),
        ],
        [
            new ReplicaMove(1, 9, "silo-0", "silo-3", MoveKind.Replace, 7, Started.AddSeconds(5)),
            new ReplicaMove(0, 1, "silo-0", "silo-3", MoveKind.Relocate, 6, Started),
        ],
        ["silo-0"]);

    [Fact]
    public void TheTableShowsMovesInFlightAndDrainedSilos()
    {
        var output = Render(InMotion());

        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("shard map version 7: 4 active silos, 2 shards, 2 with a leader; 2 moves in flight; draining silo-0", lines[0]);
        var drained = Assert.Single(lines, l => l.Contains("silo-0", StringComparison.Ordinal) && l.Contains("11111", StringComparison.Ordinal));
        Assert.Contains("Active, draining", drained, StringComparison.Ordinal);
        Assert.All(lines.Where(l => l.Contains("127.0.0.1:1111", StringComparison.Ordinal) && !l.Contains("silo-0", StringComparison.Ordinal)),
            l => Assert.DoesNotContain("draining", l, StringComparison.Ordinal));

        Assert.Contains("moves in flight", output, StringComparison.Ordinal);
        var moveRows = lines.Where(l => l.Contains("silo-0", StringComparison.Ordinal) && l.Contains("silo-3", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, moveRows.Count);

        // Oldest first: the relocation of replica 1 (map version 6) started 5 s before the replacement by replica 9.
        Assert.Equal(["0", "1", "silo-0", "silo-3", "relocate", "6"], Cells(moveRows[0])[..6]);
        Assert.Equal(["1", "9", "silo-0", "silo-3", "replace", "7"], Cells(moveRows[1])[..6]);
        Assert.EndsWith(" s", Cells(moveRows[0])[6], StringComparison.Ordinal);

        // The shards table comes after the moves and still lists every replica, the learner marked.
        var movesTitle = Array.FindIndex(lines, 1, l => l.Trim() == "moves in flight");
        var shardsTitle = Array.FindIndex(lines, 1, l => l.Trim() == "shards");
        Assert.InRange(movesTitle, 1, shardsTitle - 1);
        Assert.Contains("Follower (learner)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AQuietClusterHasNoMovesTableAndSaysSo()
    {
        var quiet = InMotion() with { Moves = [], Draining = [] };
        var legacy = InMotion() with { Moves = null, Draining = null }; // a silo of an older build sends neither

        foreach (var output in new[] { Render(quiet), Render(legacy) })
        {
            var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            Assert.Equal("shard map version 7: 4 active silos, 2 shards, 2 with a leader; 0 moves in flight", lines[0]);
            Assert.DoesNotContain(lines.Skip(1), l => l.Contains("moves in flight", StringComparison.Ordinal) || l.Contains("relocate", StringComparison.Ordinal));
            Assert.DoesNotContain("draining", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheJsonHasMovesDrainingAndAPerSiloFlag()
    {
        using var document = JsonDocument.Parse(StatusJson.Write(InMotion(), default));
        var root = document.RootElement;

        Assert.Equal(["silo-0"], root.GetProperty("draining").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(
            [("silo-0", true), ("silo-1", false), ("silo-2", false), ("silo-3", false)],
            root.GetProperty("silos").EnumerateArray().Select(s => (s.GetProperty("name").GetString(), s.GetProperty("draining").GetBoolean())));

        var moves = root.GetProperty("moves").EnumerateArray().ToList();
        Assert.Equal(2, moves.Count);
        var first = moves[0];
        Assert.Equal(0, first.GetProperty("shardId").GetInt32());
        Assert.Equal(1, first.GetProperty("replicaId").GetInt64());
        Assert.Equal("silo-0", first.GetProperty("from").GetString());
        Assert.Equal("silo-3", first.GetProperty("to").GetString());
        Assert.Equal("relocate", first.GetProperty("kind").GetString());
        Assert.Equal(6, first.GetProperty("mapVersion").GetInt64());
        Assert.Equal(Started, first.GetProperty("startedAt").GetDateTime().ToUniversalTime());
        Assert.Equal("2026-12-03T17:00:00Z", first.GetProperty("startedAt").GetString());
        Assert.Equal("replace", moves[1].GetProperty("kind").GetString());
        Assert.Equal(9, moves[1].GetProperty("replicaId").GetInt64());

        // Counts come from where replicas reported: silo-3 runs the learner, silo-0 still runs two replicas.
        var silos = root.GetProperty("silos").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(2, silos["silo-0"].GetProperty("replicas").GetInt32());
        Assert.Equal(1, silos["silo-3"].GetProperty("replicas").GetInt32());
    }

    [Fact]
    public void TheJsonOfAQuietClusterHasEmptyArrays()
    {
        using var document = JsonDocument.Parse(StatusJson.Write(InMotion() with { Moves = null, Draining = null }, default));

        Assert.Equal(0, document.RootElement.GetProperty("moves").GetArrayLength());
        Assert.Equal(0, document.RootElement.GetProperty("draining").GetArrayLength());
        Assert.All(document.RootElement.GetProperty("silos").EnumerateArray(), s => Assert.False(s.GetProperty("draining").GetBoolean()));
    }

    private static string Render(ClusterStatus status)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 160;
        StatusView.Render(console, status, showDead: false);
        return writer.ToString();
    }

    private static string[] Cells(string row) =>
        row.Split('│', StringSplitOptions.TrimEntries).Where(c => c.Length > 0).ToArray();
}
