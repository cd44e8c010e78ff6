using System.Text.Json;
using Storage.Cli;
using Xunit;
using Xunit.Abstractions;

namespace Storage.Client.Tests;

/// <summary>The <c>storage</c> command run in-process against the test cluster through its PostgreSQL membership.</summary>
[Collection(ClientClusterCollection.Name)]
public sealed class CliTests
{
    private readonly ClientClusterFixture _fixture;
    private readonly ITestOutputHelper _output;

    public CliTests(ClientClusterFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [Fact]
    public async Task PutGetDeleteAndTheirOutput()
    {
        var put = await _fixture.RunCliAsync("put", "cli/a", "hello world");
        var get = await _fixture.RunCliAsync("get", "cli/a");
        var eventual = await _fixture.RunCliAsync("get", "cli/a", "--consistency", "eventual");
        var delete = await _fixture.RunCliAsync("delete", "cli/a");
        var deleteAgain = await _fixture.RunCliAsync("delete", "cli/a");
        var missing = await _fixture.RunCliAsync("get", "cli/a");

        Assert.True(put.ExitCode == ExitCodes.Ok, put.ToString());
        var version = VersionOf(put.Stdout.Trim());
        Assert.Equal(new[] { "hello world", $"version {version}" }, get.StdoutLines);
        Assert.Equal("", get.Stderr);
        Assert.Equal(ExitCodes.Ok, eventual.ExitCode);
        Assert.Equal($"version 0 (deleted)", delete.Stdout.Trim());
        Assert.Equal($"version 0 (did not exist)", deleteAgain.Stdout.Trim());
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Equal("", missing.Stdout);
        Assert.Equal("error: key 'cli/a' not found", missing.Stderr.Trim());
    }

    [Fact]
    public async Task GetJsonAndPutFromAFile()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(path, new byte[] { 0xff, 0x00, 0x41 });
            var putFile = await _fixture.RunCliAsync("put", "cli/bin", "--file", path);
            var putText = await _fixture.RunCliAsync("put", "cli/text", "caf\u00e9");
            var binJson = await _fixture.RunCliAsync("get", "cli/bin", "--json");
            var textJson = await _fixture.RunCliAsync("get", "cli/text", "--json");
            var missingJson = await _fixture.RunCliAsync("get", "cli/none", "--json");

            Assert.Equal(ExitCodes.Ok, putFile.ExitCode);
            Assert.Equal($"{{\"key\":\"cli/bin\",\"found\":true,\"version\":{VersionOf(putFile.Stdout.Trim())},\"valueBase64\":\"/wBB\"}}", binJson.Stdout.Trim());
            Assert.Equal($"{{\"key\":\"cli/text\",\"found\":true,\"version\":{VersionOf(putText.Stdout.Trim())},\"value\":\"caf\u00e9\"}}", textJson.Stdout.Trim());
            Assert.Equal(ExitCodes.NotFound, missingJson.ExitCode);
            Assert.Equal("{\"key\":\"cli/none\",\"found\":false,\"version\":0}", missingJson.Stdout.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task CasPrintsTheNewVersionAndAConflictIsOneLineWithExitCode3()
    {
        var created = await _fixture.RunCliAsync("cas", "cli/c", "0", "v1");
        var v1 = VersionOf(created.Stdout.Trim());
        var swapped = await _fixture.RunCliAsync("cas", "cli/c", v1.ToString(System.Globalization.CultureInfo.InvariantCulture), "v2");
        var v2 = VersionOf(swapped.Stdout.Trim());
        var conflict = await _fixture.RunCliAsync("cas", "cli/c", v1.ToString(System.Globalization.CultureInfo.InvariantCulture), "v3");
        var get = await _fixture.RunCliAsync("get", "cli/c");

        Assert.Equal(ExitCodes.Ok, created.ExitCode);
        Assert.Equal(ExitCodes.Ok, swapped.ExitCode);
        Assert.True(v2 > v1);
        Assert.Equal(ExitCodes.VersionConflict, conflict.ExitCode);
        Assert.Equal("", conflict.Stdout);
        Assert.Equal($"error: version conflict on 'cli/c': expected {v1}, found {v2}{Environment.NewLine}", conflict.Stderr);
        Assert.Equal(new[] { "v2", $"version {v2}" }, get.StdoutLines);
    }

    [Fact]
    public async Task ScanPrintsOnePageOrEveryPage()
    {
        var keys = Enumerable.Range(0, 7).Select(i => $"cliscan/{i}").ToList();
        foreach (var key in keys)
        {
            await _fixture.Client.PutAsync(key, $"value of {key}");
        }

        var page = await _fixture.RunCliAsync("scan", "cliscan/", "--limit", "3");
        var next = await _fixture.RunCliAsync("scan", "cliscan/", "--limit", "3", "--after", "cliscan/2");
        var all = await _fixture.RunCliAsync("scan", "cliscan/", "--all", "--limit", "2");
        var none = await _fixture.RunCliAsync("scan", "cliscan-nothing/");

        Assert.Equal(ExitCodes.Ok, page.ExitCode);
        Assert.Equal(keys.Take(3), page.StdoutLines.Select(l => l.Split('\t')[0]));
        Assert.Equal("more: keys continue after 'cliscan/2' (use --after 'cliscan/2' or --all)", page.Stderr.Trim());
        Assert.Equal(keys.Skip(3).Take(3), next.StdoutLines.Select(l => l.Split('\t')[0]));
        Assert.Equal(ExitCodes.Ok, all.ExitCode);
        Assert.Equal("", all.Stderr);
        Assert.Equal(keys, all.StdoutLines.Select(l => l.Split('\t')[0]));
        Assert.All(all.StdoutLines, l =>
        {
            var parts = l.Split('\t');
            Assert.Equal(3, parts.Length);
            Assert.True(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) > 0);
            Assert.Equal($"value of {parts[0]}", parts[2]);
        });
        Assert.Equal(ExitCodes.Ok, none.ExitCode);
        Assert.Equal("", none.Stdout);
    }

    [Fact]
    public async Task StatusShowsSilosAndEveryShardsReplicas()
    {
        var run = await _fixture.RunCliAsync("status");
        var withDead = await _fixture.RunCliAsync("status", "--dead");
        var status = await _fixture.Client.GetStatusAsync();
        _output.WriteLine(run.Stdout);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal("", run.Stderr);
        Assert.StartsWith($"shard map version {status.ShardMapVersion}: 3 active silos, 4 shards, 4 with a leader", run.Stdout, StringComparison.Ordinal);
        foreach (var header in new[] { "address", "name", "region", "zone", "state", "replicas", "leaders", "shard", "leader", "replica", "silo", "role", "commit", "applied", "apply lag" })
        {
            Assert.Contains(header, run.Stdout, StringComparison.Ordinal);
        }

        foreach (var silo in status.Silos)
        {
            var row = Assert.Single(run.StdoutLines, l => l.Contains(silo.Name, StringComparison.Ordinal) && l.Contains(silo.Region, StringComparison.Ordinal));
            Assert.Contains(silo.Address, row, StringComparison.Ordinal);
            Assert.Contains("Active", row, StringComparison.Ordinal);
            // The last two cells are the silo's replica and leader counts; 4 shards x 3 replicas over 3 regions: 4 each.
            var cells = row.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(c => c.Length > 0).ToArray();
            Assert.Equal("4", cells[^2]);
            Assert.InRange(int.Parse(cells[^1], System.Globalization.CultureInfo.InvariantCulture), 0, 4);
        }

        // One row per replica: 4 shards x 3 replicas, exactly one leader each.
        Assert.Equal(12, run.StdoutLines.Count(l => l.Contains("Leader", StringComparison.Ordinal) || l.Contains("Follower", StringComparison.Ordinal)));
        Assert.Equal(4, run.StdoutLines.Count(l => l.Contains("Leader", StringComparison.Ordinal)));

        // Nothing died in this cluster, so --dead lists the same silos.
        Assert.Equal(ExitCodes.Ok, withDead.ExitCode);
        Assert.DoesNotContain("dead silo entries", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, withDead.StdoutLines.Count(l => l.Contains("Active", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task StatusJsonHasTheMapVersionSilosWithCountsAndShards()
    {
        var run = await _fixture.RunCliAsync("status", "--json");
        var status = await _fixture.Client.GetStatusAsync();
        _output.WriteLine(run.Stdout);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal("", run.Stderr);
        Assert.Single(run.StdoutLines);
        using var document = JsonDocument.Parse(run.Stdout);
        var root = document.RootElement;
        Assert.Equal(status.ShardMapVersion, root.GetProperty("shardMapVersion").GetInt64());

        var silos = root.GetProperty("silos").EnumerateArray().ToList();
        Assert.Equal(status.Silos.Select(s => s.Address).Order(), silos.Select(s => s.GetProperty("address").GetString()).Order());
        Assert.All(silos, s => Assert.Equal("Active", s.GetProperty("state").GetString()));

        var shards = root.GetProperty("shards").EnumerateArray().ToList();
        Assert.Equal(status.Shards.Select(s => s.ShardId).Order(), shards.Select(s => s.GetProperty("shardId").GetInt32()));
        var replicas = shards.SelectMany(s => s.GetProperty("replicas").EnumerateArray().Select(r => (Shard: s, Replica: r))).ToList();
        Assert.Equal(12, replicas.Count);
        Assert.All(replicas, r =>
        {
            Assert.True(r.Replica.GetProperty("reachable").GetBoolean());
            Assert.Equal(
                r.Replica.GetProperty("commitIndex").GetInt64() - r.Replica.GetProperty("appliedIndex").GetInt64(),
                r.Replica.GetProperty("applyLag").GetInt64());
        });

        // Replicas do not move in this cluster: each silo runs the replicas the cluster status puts on it (by silo name).
        foreach (var silo in silos)
        {
            var name = silo.GetProperty("name").GetString();
            Assert.Equal(status.Shards.SelectMany(s => s.Replicas).Count(r => r.Silo == name), silo.GetProperty("replicas").GetInt32());
        }

        // Leaders may be handed over between two status calls, so leader counts are checked against the same document:
        // each silo's count is the number of shards whose leader replica reported from it.
        Assert.All(shards, s => Assert.Equal(JsonValueKind.Number, s.GetProperty("leader").ValueKind));
        foreach (var silo in silos)
        {
            var name = silo.GetProperty("name").GetString();
            var led = shards.Count(s => s.GetProperty("replicas").EnumerateArray()
                .Any(r => r.GetProperty("replicaId").GetInt64() == s.GetProperty("leader").GetInt64() && r.GetProperty("silo").GetString() == name));
            Assert.Equal(led, silo.GetProperty("leaders").GetInt32());
        }

        Assert.Equal(4, silos.Sum(s => s.GetProperty("leaders").GetInt32()));
        Assert.Equal(12, silos.Sum(s => s.GetProperty("replicas").GetInt32()));
    }

    [Fact]
    public async Task DrainMarksTheSiloInStatusUntilUndrain()
    {
        var silo = (await _fixture.Client.GetStatusAsync()).Silos.First(s => s.State == "Active").Name;
        try
        {
            var drain = await _fixture.RunCliAsync("drain", silo);
            var again = await _fixture.RunCliAsync("drain", silo);
            var table = await _fixture.RunCliAsync("status");
            var json = await _fixture.RunCliAsync("status", "--json");
            var undrain = await _fixture.RunCliAsync("undrain", silo);
            var undrainAgain = await _fixture.RunCliAsync("undrain", silo);
            var after = await _fixture.RunCliAsync("status", "--json");
            _output.WriteLine(table.Stdout);

            Assert.True(drain.ExitCode == ExitCodes.Ok, drain.ToString());
            Assert.Equal($"draining {silo}: its replicas and leaders move off in steps and it gets nothing new until 'storage undrain {silo}' (watch 'storage status')", drain.Stdout.Trim());
            Assert.Equal("", drain.Stderr);
            Assert.Equal(ExitCodes.Ok, again.ExitCode); // draining a drained silo changes nothing

            Assert.Equal(ExitCodes.Ok, table.ExitCode);
            Assert.Contains($"; draining {silo}", table.StdoutLines[0], StringComparison.Ordinal);
            var row = Assert.Single(table.StdoutLines, l => l.Contains($" {silo} ", StringComparison.Ordinal) && l.Contains("127.0.0.1", StringComparison.Ordinal));
            Assert.Contains("Active, draining", row, StringComparison.Ordinal);

            using (var document = JsonDocument.Parse(json.Stdout))
            {
                Assert.Equal([silo], document.RootElement.GetProperty("draining").EnumerateArray().Select(e => e.GetString()));
                Assert.All(document.RootElement.GetProperty("silos").EnumerateArray(), s =>
                    Assert.Equal(s.GetProperty("name").GetString() == silo, s.GetProperty("draining").GetBoolean()));
                Assert.Equal(JsonValueKind.Array, document.RootElement.GetProperty("moves").ValueKind);
            }

            Assert.True(undrain.ExitCode == ExitCodes.Ok, undrain.ToString());
            Assert.Equal($"{silo} is not drained: it takes replicas again and is filled gradually", undrain.Stdout.Trim());
            Assert.Equal(ExitCodes.Ok, undrainAgain.ExitCode);
            using (var document = JsonDocument.Parse(after.Stdout))
            {
                Assert.Equal(0, document.RootElement.GetProperty("draining").GetArrayLength());
            }
        }
        finally
        {
            // The other tests of this collection expect an undrained cluster, whatever failed above.
            await _fixture.Client.UndrainAsync(silo);
        }
    }

    [Fact]
    public async Task OperatorVerbsRefuseWhatTheClusterDoesNotHaveWithExit1()
    {
        var drain = await _fixture.RunCliAsync("drain", "no-such-silo");
        var undrain = await _fixture.RunCliAsync("undrain", "no-such-silo");
        var split = await _fixture.RunCliAsync("split", "9999");
        var replace = await _fixture.RunCliAsync("replace", "9999", "1", (await _fixture.Client.GetStatusAsync()).Silos[0].Name);
        var status = await _fixture.Client.GetStatusAsync();

        Assert.Equal(ExitCodes.Error, drain.ExitCode);
        Assert.Equal("", drain.Stdout);
        Assert.Equal("error: unknown silo 'no-such-silo': name a silo of this cluster (see storage status)", drain.Stderr.Trim());
        Assert.Equal(ExitCodes.Error, undrain.ExitCode);
        Assert.Equal("error: unknown silo 'no-such-silo': name a silo of this cluster (see storage status)", undrain.Stderr.Trim());
        Assert.Equal(ExitCodes.Error, split.ExitCode);
        Assert.Equal("", split.Stdout);
        Assert.StartsWith("error: ", split.Stderr, StringComparison.Ordinal);
        Assert.Single(split.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(ExitCodes.Error, replace.ExitCode);
        Assert.Equal("", replace.Stdout);
        Assert.StartsWith("error: ", replace.Stderr, StringComparison.Ordinal);
        Assert.Contains("9999", replace.Stderr, StringComparison.Ordinal);

        // Nothing changed.
        Assert.Empty(status.Draining ?? []);
        Assert.Equal(4, status.Shards.Count);
    }

    [Fact]
    public async Task UsageErrorsExitWith2AndOneLine()
    {
        var runs = new[]
        {
            await _fixture.RunCliRawAsync(Array.Empty<string>()),
            await _fixture.RunCliRawAsync(new[] { "frobnicate" }),
            await _fixture.RunCliRawAsync(new[] { "get" }),
            await _fixture.RunCliRawAsync(new[] { "put", "k" }),
            await _fixture.RunCliRawAsync(new[] { "cas", "k", "not-a-number", "v" }),
            await _fixture.RunCliRawAsync(new[] { "get", "k", "--consistency", "sometimes" }),
            await _fixture.RunCliRawAsync(new[] { "get", "k" }), // no cluster given anywhere
            await _fixture.RunCliRawAsync(new[] { "get", "k", "-c", _fixture.ConnectionString, "-g", "127.0.0.1:1" }),
            await _fixture.RunCliAsync("drain"),
            await _fixture.RunCliAsync("drain", ""),
            await _fixture.RunCliAsync("undrain", " "),
            await _fixture.RunCliAsync("split"),
            await _fixture.RunCliAsync("split", "shard-one"),
            await _fixture.RunCliAsync("split", "1", "--at", "xyz"),
            await _fixture.RunCliAsync("split", "1", "--at", "0x"),
            await _fixture.RunCliAsync("split", "1", "--at", "10000000000000000"), // 17 digits: beyond 64 bits
            await _fixture.RunCliAsync("replace", "1", "2"),
            await _fixture.RunCliAsync("replace", "1", "two", "silo-0"),
        };

        Assert.All(runs, r =>
        {
            Assert.Equal(ExitCodes.Usage, r.ExitCode);
            Assert.Equal("", r.Stdout);
            Assert.StartsWith("error: ", r.Stderr, StringComparison.Ordinal);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        });
        Assert.Contains("no cluster given", runs[6].Stderr, StringComparison.Ordinal);
        Assert.Contains("not both", runs[7].Stderr, StringComparison.Ordinal);
        Assert.Contains("the silo name must not be empty", runs[9].Stderr, StringComparison.Ordinal);
        Assert.Contains("the silo name must not be empty", runs[10].Stderr, StringComparison.Ordinal);
        Assert.Equal("error: --at must be a 64-bit hash in hexadecimal (1 to 16 digits, optional 0x), not 'xyz' (see 'storage --help')", runs[13].Stderr.Trim());
        Assert.Contains("not '0x'", runs[14].Stderr, StringComparison.Ordinal);
        Assert.Contains("not '10000000000000000'", runs[15].Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpExitsWith0()
    {
        var help = await _fixture.RunCliRawAsync(new[] { "--help" });

        Assert.Equal(ExitCodes.Ok, help.ExitCode);
        Assert.Contains("Exit codes: 0 ok, 1 error, 2 usage, 3 version conflict, 4 not found (get), 5 cluster or shard unavailable", help.Stdout, StringComparison.Ordinal);
        foreach (var verb in new[] { "put", "get", "delete", "cas", "scan", "status", "drain", "undrain", "split", "replace" })
        {
            Assert.Contains($"  {verb} ", help.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheEnvironmentNamesTheClusterAndBadInputExitsWith1()
    {
        var environment = new Dictionary<string, string>
        {
            ["STORAGE_CONNECTION_STRING"] = _fixture.ConnectionString,
            ["STORAGE_CLUSTER_ID"] = _fixture.ClusterId,
            ["STORAGE_SERVICE_ID"] = _fixture.ServiceId,
        };
        var put = await _fixture.RunCliRawAsync(new[] { "put", "cli/env", "from env" }, environment, throughTestCluster: true);
        var badKey = await _fixture.RunCliRawAsync(new[] { "put", "", "x" }, environment, throughTestCluster: true);
        var badVersion = await _fixture.RunCliRawAsync(new[] { "cas", "cli/env", "-1", "x" }, environment, throughTestCluster: true);
        var missingFile = await _fixture.RunCliRawAsync(new[] { "put", "cli/env", "--file", "/nonexistent/value.bin" }, environment, throughTestCluster: true);

        Assert.True(put.ExitCode == ExitCodes.Ok, put.ToString());
        Assert.Equal(VersionOf(put.Stdout.Trim()), (await _fixture.Client.GetAsync("cli/env")).Version);
        Assert.Equal(ExitCodes.Error, badKey.ExitCode);
        Assert.StartsWith("error: ", badKey.Stderr, StringComparison.Ordinal);
        Assert.Contains("key", badKey.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(ExitCodes.Error, badVersion.ExitCode);
        Assert.Equal("error: expected version must be 0 (absent) or positive, not -1", badVersion.Stderr.Trim());
        Assert.Equal(ExitCodes.Error, missingFile.ExitCode);
        Assert.StartsWith("error: cannot read --file '/nonexistent/value.bin': ", missingFile.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableClusterExitsWith5()
    {
        var run = await _fixture.RunCliRawAsync(new[] { "get", "k", "--gateway", "127.0.0.1:1", "--connect-timeout", "1" });

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.StartsWith("error: cannot connect to cluster 'storage' (service 'storage') via gateways 127.0.0.1:1 within 1 s: ", run.Stderr, StringComparison.Ordinal);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static long VersionOf(string line)
    {
        Assert.StartsWith("version ", line, StringComparison.Ordinal);
        return long.Parse(line["version ".Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
