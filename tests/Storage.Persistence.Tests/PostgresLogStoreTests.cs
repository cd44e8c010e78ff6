using Npgsql;
using Storage.Raft;
using Storage.TestKit;
using static Storage.Persistence.Tests.Logs;

namespace Storage.Persistence.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresLogStoreTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres;
    private string _db = string.Empty;
    private PostgresLogStore _store = null!;

    public PostgresLogStoreTests(PostgresFixture postgres)
    {
        _postgres = postgres;
    }

    public async Task InitializeAsync()
    {
        _db = await _postgres.CreateDatabaseAsync("log_store");
        _store = new PostgresLogStore(_db);
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Incarnations_count_up_per_replica_and_never_repeat_under_concurrency()
    {
        Assert.Equal(1, await _store.AcquireIncarnationAsync("inc/a"));
        Assert.Equal(2, await _store.AcquireIncarnationAsync("inc/a"));
        Assert.Equal(1, await _store.AcquireIncarnationAsync("inc/b"));

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => _store.AcquireIncarnationAsync("inc/c"))));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), concurrent.Order());
    }

    [Fact]
    public async Task Appends_and_loads_entries_and_hard_state()
    {
        var inc = await _store.AcquireIncarnationAsync("append/1");
        var entries = new[] { E(1), E(2, 1, "two", EntryType.ConfChange), E(3, 2, "") };
        var outcomes = await _store.WriteBatchAsync([W("append/1", inc, entries, new HardState(2, 7, 3))]);
        Assert.Equal([WriteOutcome.Committed], outcomes);

        var all = await _store.LoadAsync("append/1", 0);
        Assert.Equal(new HardState(2, 7, 3), all.HardState);
        Assert.Equal(Describe(entries), Describe(all.Entries));

        var tail = await _store.LoadAsync("append/1", 2);
        Assert.Equal(Describe(entries[2..]), Describe(tail.Entries));
    }

    [Fact]
    public async Task An_unknown_replica_loads_as_empty()
    {
        var log = await _store.LoadAsync("never/seen", 0);
        Assert.Null(log.HardState);
        Assert.Empty(log.Entries);
    }

    [Fact]
    public async Task Appending_below_the_tail_overwrites_from_that_index()
    {
        var inc = await _store.AcquireIncarnationAsync("overwrite/1");
        await _store.WriteBatchAsync([W("overwrite/1", inc, Run(1, 5, term: 1))]);
        await _store.WriteBatchAsync([W("overwrite/1", inc, Run(3, 4, term: 2))]);

        var log = await _store.LoadAsync("overwrite/1", 0);
        Assert.Equal(Describe([E(1, 1), E(2, 1), E(3, 2), E(4, 2)]), Describe(log.Entries));
    }

    [Fact]
    public async Task Compaction_deletes_the_prefix_and_can_come_with_an_append()
    {
        var inc = await _store.AcquireIncarnationAsync("compact/1");
        await _store.WriteBatchAsync([W("compact/1", inc, Run(1, 6))]);
        await _store.WriteBatchAsync([W("compact/1", inc, compactThrough: 3)]);
        Assert.Equal(Describe(Run(4, 6)), Describe((await _store.LoadAsync("compact/1", 0)).Entries));

        await _store.WriteBatchAsync([W("compact/1", inc, Run(7, 8), compactThrough: 5)]);
        Assert.Equal(Describe(Run(6, 8)), Describe((await _store.LoadAsync("compact/1", 0)).Entries));
    }

    [Fact]
    public async Task A_hard_state_only_write_keeps_the_entries()
    {
        var inc = await _store.AcquireIncarnationAsync("hs/1");
        await _store.WriteBatchAsync([W("hs/1", inc, Run(1, 2), new HardState(1, 1, 0))]);
        await _store.WriteBatchAsync([W("hs/1", inc, hardState: new HardState(3, 2, 2))]);

        var log = await _store.LoadAsync("hs/1", 0);
        Assert.Equal(new HardState(3, 2, 2), log.HardState);
        Assert.Equal(2, log.Entries.Count);
    }

    [Fact]
    public async Task A_stale_incarnation_is_fenced_while_its_batch_mates_commit()
    {
        var old = await _store.AcquireIncarnationAsync("fence/a");
        await _store.WriteBatchAsync([W("fence/a", old, Run(1, 2), new HardState(1, 1, 1))]);
        var current = await _store.AcquireIncarnationAsync("fence/a");
        var other = await _store.AcquireIncarnationAsync("fence/b");

        var outcomes = await _store.WriteBatchAsync(
        [
            W("fence/b", other, Run(1, 1)),
            W("fence/a", old, [E(2, 5, "stale"), E(3, 5, "stale")], new HardState(5, 9, 3), compactThrough: 1),
            W("fence/b", other, Run(2, 3), new HardState(1, 2, 3)),
            W("fence/never", 1, Run(1, 1), new HardState(1, 1, 1)),
        ]);

        Assert.Equal([WriteOutcome.Committed, WriteOutcome.Fenced, WriteOutcome.Committed, WriteOutcome.Fenced], outcomes);

        // Nothing of the fenced writes is stored: not the entries, the truncation, the compaction nor the hard state.
        var a = await _store.LoadAsync("fence/a", 0);
        Assert.Equal(new HardState(1, 1, 1), a.HardState);
        Assert.Equal(Describe(Run(1, 2)), Describe(a.Entries));
        var never = await _store.LoadAsync("fence/never", 0);
        Assert.Null(never.HardState);
        Assert.Empty(never.Entries);

        var b = await _store.LoadAsync("fence/b", 0);
        Assert.Equal(new HardState(1, 2, 3), b.HardState);
        Assert.Equal(Describe(Run(1, 3)), Describe(b.Entries));

        Assert.Equal([WriteOutcome.Committed], await _store.WriteBatchAsync([W("fence/a", current, [E(3, 2, "new")])]));
    }

    [Fact]
    public async Task Acquiring_an_incarnation_waits_for_a_batch_holding_the_replica_row()
    {
        await _store.AcquireIncarnationAsync("lock/1");
        // The first statement of every batch, held open in a transaction.
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand(PostgresLogStore.LockSql, connection, tx))
        {
            hold.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ["lock/1"] });
            await hold.ExecuteScalarAsync();
        }

        var acquire = _store.AcquireIncarnationAsync("lock/1");
        await Task.Delay(300);
        Assert.False(acquire.IsCompleted, "AcquireIncarnation must not overtake a batch that holds the replica row");
        await tx.CommitAsync();
        Assert.Equal(2, await acquire.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Once_a_new_incarnation_is_acquired_no_write_of_the_old_one_commits()
    {
        var old = await _store.AcquireIncarnationAsync("race/1");
        var acquired = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        int committedBefore = 0, committedAfter = 0, fenced = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // Stale writers keep writing, concurrently and over the same index, while the new activation takes over.
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            for (var i = 1; Volatile.Read(ref fenced) < 30 && !timeout.IsCancellationRequested; i++)
            {
                var startedAfterAcquire = acquired.Task.IsCompleted;
                var outcome = (await _store.WriteBatchAsync([W("race/1", old, [E(1, 1, $"w{w}-{i}")], new HardState(1, 0, i))]))[0];
                if (outcome == WriteOutcome.Fenced)
                {
                    Interlocked.Increment(ref fenced);
                }
                else
                {
                    Interlocked.Increment(ref startedAfterAcquire ? ref committedAfter : ref committedBefore);
                }
            }
        })).ToList();

        await Task.Delay(150);
        acquired.SetResult(await _store.AcquireIncarnationAsync("race/1"));
        await Task.WhenAll(writers);

        Assert.True(committedBefore > 0, "the old incarnation was writing before the takeover");
        Assert.Equal(0, committedAfter);
        Assert.True(fenced >= 30);
    }

    [Fact]
    public async Task Two_incarnations_of_one_replica_in_one_batch_only_the_current_applies()
    {
        var old = await _store.AcquireIncarnationAsync("mixed/1");
        var current = await _store.AcquireIncarnationAsync("mixed/1");
        var outcomes = await _store.WriteBatchAsync(
        [
            W("mixed/1", current, [E(1, 2, "mine")], new HardState(2, 1, 0)),
            W("mixed/1", old, [E(1, 1, "stale"), E(2, 1, "stale")], new HardState(1, 1, 0)),
        ]);

        Assert.Equal([WriteOutcome.Committed, WriteOutcome.Fenced], outcomes);
        var log = await _store.LoadAsync("mixed/1", 0);
        Assert.Equal(Describe([E(1, 2, "mine")]), Describe(log.Entries));
        Assert.Equal(new HardState(2, 1, 0), log.HardState);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task Many_writes_of_a_replica_in_one_batch_end_as_if_applied_one_by_one(int seed)
    {
        var random = new Random(seed);
        var batched = new List<ReplicaLogWrite>();
        var sequential = new List<ReplicaLogWrite>();
        var replicas = new[] { "a", "b", "c" };
        var incarnations = new Dictionary<string, (long Batched, long Sequential)>();
        foreach (var r in replicas)
        {
            incarnations[r] = (await _store.AcquireIncarnationAsync($"prop{seed}/{r}/batched"), await _store.AcquireIncarnationAsync($"prop{seed}/{r}/seq"));
            var seedLog = Run(1, random.Next(0, 6), term: 1);
            await _store.WriteBatchAsync([W($"prop{seed}/{r}/batched", incarnations[r].Batched, seedLog), W($"prop{seed}/{r}/seq", incarnations[r].Sequential, seedLog)]);
        }

        var last = replicas.ToDictionary(r => r, _ => 6L);
        for (var i = 0; i < 24; i++)
        {
            var r = replicas[random.Next(replicas.Length)];
            var term = i + 2;
            IReadOnlyList<Entry> entries = Array.Empty<Entry>();
            if (random.Next(4) != 0)
            {
                var from = random.Next(1, (int)last[r] + 2);
                entries = Enumerable.Range(from, random.Next(1, 4)).Select(x => E(x, term, $"w{i}")).ToArray();
                last[r] = Math.Max(last[r], entries[^1].Index);
            }

            HardState? hs = random.Next(2) == 0 ? new HardState(term, random.Next(1, 4), random.Next(0, 10)) : null;
            var compact = random.Next(5) == 0 ? random.Next(1, (int)last[r] + 1) : 0;
            batched.Add(W($"prop{seed}/{r}/batched", incarnations[r].Batched, entries, hs, compact));
            sequential.Add(W($"prop{seed}/{r}/seq", incarnations[r].Sequential, entries, hs, compact));
        }

        Assert.All(await _store.WriteBatchAsync(batched), o => Assert.Equal(WriteOutcome.Committed, o));
        foreach (var write in sequential)
        {
            Assert.Equal([WriteOutcome.Committed], await _store.WriteBatchAsync([write]));
        }

        foreach (var r in replicas)
        {
            var b = await _store.LoadAsync($"prop{seed}/{r}/batched", 0);
            var s = await _store.LoadAsync($"prop{seed}/{r}/seq", 0);
            Assert.Equal(Describe(s.Entries), Describe(b.Entries));
            Assert.Equal(s.HardState, b.HardState);
        }
    }

    [Fact]
    public async Task A_batch_is_one_transaction_a_failing_statement_keeps_nothing()
    {
        var db = await _postgres.CreateDatabaseAsync("atomic");
        await using var store = new PostgresLogStore(db);
        // A constraint the test can trip on purpose, late in the batch (the insert comes after the deletes).
        await SchemaInstallerTests.ExecuteAsync(db, "ALTER TABLE raft_log ADD CONSTRAINT test_no_term_666 CHECK (term <> 666)");
        var x = await store.AcquireIncarnationAsync("atomic/x");
        var y = await store.AcquireIncarnationAsync("atomic/y");
        await store.WriteBatchAsync([W("atomic/x", x, Run(1, 4), new HardState(1, 1, 1))]);

        await Assert.ThrowsAsync<PostgresException>(() => store.WriteBatchAsync(
        [
            W("atomic/x", x, [E(2, 2, "replaces")], new HardState(2, 2, 2), compactThrough: 1),
            W("atomic/y", y, [E(1, 666)]),
        ]));

        var log = await store.LoadAsync("atomic/x", 0);
        Assert.Equal(Describe(Run(1, 4)), Describe(log.Entries));
        Assert.Equal(new HardState(1, 1, 1), log.HardState);
        Assert.Empty((await store.LoadAsync("atomic/y", 0)).Entries);
    }

    [Theory]
    [InlineData(nameof(PostgresLogStore.TruncateSql), ">=")]
    [InlineData(nameof(PostgresLogStore.CompactSql), "<=")]
    public async Task Deleting_a_range_reads_only_that_range_through_the_index(string statement, string op)
    {
        // The plan the prepared statement really gets (generic, as after auto-prepare): the index range must bound
        // the scan, or each delete reads the replica's whole retained log (a write got 35 ms slower at 90k rows).
        var sql = statement == nameof(PostgresLogStore.TruncateSql) ? PostgresLogStore.TruncateSql : PostgresLogStore.CompactSql;
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using (var prepare = new NpgsqlCommand($"SET plan_cache_mode = force_generic_plan; PREPARE range_delete(text[], bigint[], bigint[]) AS {sql}", connection))
        {
            await prepare.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand("EXPLAIN EXECUTE range_delete('{plan/1}', '{1}', '{10}')", connection);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        var text = string.Join("\n", plan);
        Assert.Contains(plan, line => line.Contains("Index Cond:", StringComparison.Ordinal) && line.Contains($"idx {op} ", StringComparison.Ordinal));
        Assert.DoesNotContain("Seq Scan on raft_log", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_large_batch_goes_in_one_statement()
    {
        var inc = await _store.AcquireIncarnationAsync("big/1");
        var payload = new byte[200];
        Random.Shared.NextBytes(payload);
        var entries = Enumerable.Range(1, 5000).Select(i => new Entry(1, i, EntryType.Normal, payload)).ToArray();
        Assert.Equal([WriteOutcome.Committed], await _store.WriteBatchAsync([W("big/1", inc, entries)]));

        var log = await _store.LoadAsync("big/1", 4990);
        Assert.Equal(Enumerable.Range(4991, 10).Select(i => (long)i), log.Entries.Select(e => e.Index));
        Assert.All(log.Entries, e => Assert.Equal(payload, e.Data));
    }

    [Fact]
    public async Task Deleting_a_replica_removes_its_state_and_fences_it_for_good()
    {
        var inc = await _store.AcquireIncarnationAsync("delete/1");
        await _store.WriteBatchAsync([W("delete/1", inc, Run(1, 3), new HardState(1, 1, 1))]);
        await _store.DeleteReplicaAsync("delete/1");

        var log = await _store.LoadAsync("delete/1", 0);
        Assert.Null(log.HardState);
        Assert.Empty(log.Entries);
        Assert.Equal([WriteOutcome.Fenced], await _store.WriteBatchAsync([W("delete/1", inc, Run(4, 4))]));
        Assert.True(await _store.AcquireIncarnationAsync("delete/1") > inc + 1);
    }

    [Fact]
    public async Task Malformed_writes_are_rejected_before_touching_the_database()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.WriteBatchAsync([W("bad/1", 1, [E(1), E(3)])]));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.WriteBatchAsync([W("bad/1", 1, [E(0)])]));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.WriteBatchAsync([W("bad/1", 0, [E(1)])]));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.WriteBatchAsync([W("bad/1", 1, compactThrough: -1)]));
        Assert.Empty(await _store.WriteBatchAsync([]));
    }
}
