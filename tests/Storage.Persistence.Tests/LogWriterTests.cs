using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Storage.Raft;
using Storage.TestKit;
using static Storage.Persistence.Tests.Logs;

namespace Storage.Persistence.Tests;

[Collection(PostgresCollection.Name)]
public sealed class LogWriterTests : IAsyncLifetime
{
    private readonly PostgresFixture _postgres;
    private PostgresLogStore _store = null!;
    private RecordingLogStore _recording = null!;

    public LogWriterTests(PostgresFixture postgres)
    {
        _postgres = postgres;
    }

    public async Task InitializeAsync()
    {
        _store = new PostgresLogStore(await _postgres.CreateDatabaseAsync("log_writer"));
        _recording = new RecordingLogStore(_store);
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private LogWriter NewWriter(int maxWrites = 512, long maxBytes = 16 << 20, TimeSpan? shutdown = null, IMeterFactory? meters = null) =>
        new(_recording,
            Options.Create(new LogWriterOptions { MaxWritesPerBatch = maxWrites, MaxBytesPerBatch = maxBytes, ShutdownTimeout = shutdown ?? TimeSpan.FromSeconds(30) }),
            NullLogger<LogWriter>.Instance,
            meters);

    [Fact]
    public async Task Concurrent_writers_share_transactions_and_each_replica_keeps_its_order()
    {
        const int replicas = 40, writesEach = 25;
        var ids = Enumerable.Range(0, replicas).Select(i => $"group/{i}").ToArray();
        var incarnations = new Dictionary<string, long>();
        foreach (var id in ids)
        {
            incarnations[id] = await _store.AcquireIncarnationAsync(id);
        }

        await using var writer = NewWriter();
        // Each replica pipelines its writes without waiting, as a leader does; all replicas run at once.
        var start = new TaskCompletionSource();
        var replicaTasks = ids.Select(id => Task.Run(async () =>
        {
            await start.Task;
            var pending = new List<Task<WriteOutcome>>();
            for (var k = 1; k <= writesEach; k++)
            {
                // Each write appends at index k, so a reordering (k+1 before k) would truncate k+1 away.
                pending.Add(writer.WriteAsync(W(id, incarnations[id], [E(k, 1, $"{id}#{k}")], new HardState(1, 0, k))));
                if (k % 5 == 0)
                {
                    await Task.Yield();
                }
            }

            return await Task.WhenAll(pending);
        })).ToArray();
        start.SetResult();
        var outcomes = (await Task.WhenAll(replicaTasks)).SelectMany(o => o).ToList();

        Assert.Equal(replicas * writesEach, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(WriteOutcome.Committed, o));
        Assert.True(_recording.BatchCount < replicas * writesEach, $"{_recording.BatchCount} transactions for {replicas * writesEach} writes: no group commit");

        // The store saw every replica's writes in enqueue order.
        var seen = _recording.Batches.SelectMany(b => b).GroupBy(w => w.ReplicaId).ToDictionary(g => g.Key, g => g.Select(w => w.Entries[0].Index).ToList());
        foreach (var id in ids)
        {
            Assert.Equal(Enumerable.Range(1, writesEach).Select(i => (long)i), seen[id]);
            var log = await _store.LoadAsync(id, 0);
            Assert.Equal(Enumerable.Range(1, writesEach).Select(i => $"{id}#{i}"), log.Entries.Select(Text));
            Assert.Equal(new HardState(1, 0, writesEach), log.HardState);
        }
    }

    [Fact]
    public async Task Writes_queued_behind_a_transaction_are_grouped_up_to_the_batch_limit()
    {
        var inc = await _store.AcquireIncarnationAsync("limit/1");
        var release = new TaskCompletionSource();
        _recording.BeforeBatch = async (n, _, _) =>
        {
            if (n == 1)
            {
                await release.Task;
            }
        };
        await using var writer = NewWriter(maxWrites: 8);

        var first = writer.WriteAsync(W("limit/1", inc, [E(1)]));
        await WaitUntil(() => _recording.BatchCount == 1);
        var rest = Enumerable.Range(2, 40).Select(i => writer.WriteAsync(W("limit/1", inc, [E(i)]))).ToList();
        release.SetResult();
        await Task.WhenAll(rest.Append(first));

        var sizes = _recording.Batches.Select(b => b.Count).ToList();
        Assert.Equal(1, sizes[0]);
        Assert.Equal([8, 8, 8, 8, 8], sizes.Skip(1));
        Assert.Equal(41, (await _store.LoadAsync("limit/1", 0)).Entries.Count);
    }

    [Fact]
    public async Task A_batch_stops_growing_at_the_byte_limit_but_a_big_write_still_goes_alone()
    {
        var inc = await _store.AcquireIncarnationAsync("bytes/1");
        var release = new TaskCompletionSource();
        _recording.BeforeBatch = async (n, _, _) =>
        {
            if (n == 1)
            {
                await release.Task;
            }
        };
        await using var writer = NewWriter(maxBytes: 3000);
        var blob = new byte[1000];

        var first = writer.WriteAsync(W("bytes/1", inc, [E(1)]));
        await WaitUntil(() => _recording.BatchCount == 1);
        var big = writer.WriteAsync(W("bytes/1", inc, [new Entry(1, 2, EntryType.Normal, new byte[10_000])]));
        var rest = Enumerable.Range(3, 6).Select(i => writer.WriteAsync(W("bytes/1", inc, [new Entry(1, i, EntryType.Normal, blob)]))).ToList();
        release.SetResult();
        await Task.WhenAll(rest.Append(first).Append(big));

        Assert.Equal([1, 1, 2, 2, 2], _recording.Batches.Select(b => b.Count));
    }

    [Fact]
    public async Task A_fenced_write_reports_fenced_and_its_batch_mates_commit()
    {
        var stale = await _store.AcquireIncarnationAsync("wfence/a");
        await _store.AcquireIncarnationAsync("wfence/a");
        var b = await _store.AcquireIncarnationAsync("wfence/b");
        var release = new TaskCompletionSource();
        _recording.BeforeBatch = async (n, _, _) =>
        {
            if (n == 1)
            {
                await release.Task;
            }
        };
        await using var writer = NewWriter();
        var first = writer.WriteAsync(W("wfence/b", b, [E(1)]));
        await WaitUntil(() => _recording.BatchCount == 1);
        var fenced = writer.WriteAsync(W("wfence/a", stale, [E(1)]));
        var committed = writer.WriteAsync(W("wfence/b", b, [E(2)]));
        release.SetResult();

        Assert.Equal(WriteOutcome.Committed, await first);
        Assert.Equal(WriteOutcome.Fenced, await fenced);
        Assert.Equal(WriteOutcome.Committed, await committed);
        Assert.Equal(2, _recording.Batches[1].Count);
        Assert.Empty((await _store.LoadAsync("wfence/a", 0)).Entries);
    }

    [Fact]
    public async Task A_failed_batch_faults_its_callers_and_poisons_those_incarnations_only()
    {
        var a1 = await _store.AcquireIncarnationAsync("fail/a");
        var b1 = await _store.AcquireIncarnationAsync("fail/b");
        var boom = new InvalidOperationException("disk on fire");
        var release = new TaskCompletionSource();
        _recording.BeforeBatch = async (n, _, _) =>
        {
            if (n == 1)
            {
                await release.Task;
                throw boom;
            }
        };
        await using var writer = NewWriter();

        var doomedA = writer.WriteAsync(W("fail/a", a1, [E(1)]));
        await WaitUntil(() => _recording.BatchCount == 1);
        var doomedB = writer.WriteAsync(W("fail/b", b1, [E(1)]));  // queued: next batch, not poisoned
        var behindA = writer.WriteAsync(W("fail/a", a1, [E(2)]));  // queued behind the failure: refused
        release.SetResult();

        Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(() => doomedA));
        var refused = await Assert.ThrowsAsync<ReplicaLogPoisonedException>(() => behindA);
        Assert.Same(boom, refused.InnerException);
        Assert.Equal(WriteOutcome.Committed, await doomedB);

        // The refused write never reached the store; replica a has no hole (entry 2 without entry 1).
        Assert.DoesNotContain(_recording.Batches.SelectMany(x => x), w => w.ReplicaId == "fail/a" && w.Entries[0].Index == 2);
        Assert.Empty((await _store.LoadAsync("fail/a", 0)).Entries);
        await Assert.ThrowsAsync<ReplicaLogPoisonedException>(() => writer.WriteAsync(W("fail/a", a1, [E(3)])));

        // After reloading under a new incarnation the replica writes again.
        var a2 = await _store.AcquireIncarnationAsync("fail/a");
        Assert.Equal(WriteOutcome.Committed, await writer.WriteAsync(W("fail/a", a2, [E(1)])));
    }

    [Fact]
    public async Task Every_caller_in_a_failed_batch_sees_the_store_exception()
    {
        var ids = Enumerable.Range(0, 5).Select(i => $"failall/{i}").ToArray();
        var incs = new List<long>();
        foreach (var id in ids)
        {
            incs.Add(await _store.AcquireIncarnationAsync(id));
        }

        var release = new TaskCompletionSource();
        _recording.BeforeBatch = async (n, _, _) =>
        {
            await release.Task;
            if (n == 2)
            {
                throw new TimeoutException("commit lost");
            }
        };
        await using var writer = NewWriter();
        var first = writer.WriteAsync(W("failall/0", incs[0], [E(1)]));
        await WaitUntil(() => _recording.BatchCount == 1);
        var second = ids.Skip(1).Select((id, i) => writer.WriteAsync(W(id, incs[i + 1], [E(1)]))).ToList();
        release.SetResult();

        Assert.Equal(WriteOutcome.Committed, await first);
        foreach (var task in second)
        {
            await Assert.ThrowsAsync<TimeoutException>(() => task);
        }
    }

    [Fact]
    public async Task Disposing_commits_what_is_queued_and_then_refuses_new_writes()
    {
        var inc = await _store.AcquireIncarnationAsync("dispose/1");
        var release = new TaskCompletionSource();
        _recording.BeforeBatch = async (n, _, _) =>
        {
            if (n == 1)
            {
                await release.Task;
            }
        };
        var writer = NewWriter();
        var writes = Enumerable.Range(1, 30).Select(i => writer.WriteAsync(W("dispose/1", inc, [E(i)]))).ToList();
        await WaitUntil(() => _recording.BatchCount == 1);
        var disposing = writer.DisposeAsync().AsTask();
        release.SetResult();
        await disposing;

        Assert.All(await Task.WhenAll(writes), o => Assert.Equal(WriteOutcome.Committed, o));
        Assert.Equal(30, (await _store.LoadAsync("dispose/1", 0)).Entries.Count);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.WriteAsync(W("dispose/1", inc, [E(31)])));
    }

    [Fact]
    public async Task A_stuck_store_does_not_hang_disposal()
    {
        var inc = await _store.AcquireIncarnationAsync("stuck/1");
        _recording.BeforeBatch = (_, _, ct) => Task.Delay(Timeout.Infinite, ct);
        var writer = NewWriter(shutdown: TimeSpan.FromMilliseconds(300));
        var inFlight = writer.WriteAsync(W("stuck/1", inc, [E(1)]));
        await WaitUntil(() => _recording.BatchCount == 1);
        var queued = writer.WriteAsync(W("stuck/1", inc, [E(2)]));

        await writer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => inFlight);
        await Assert.ThrowsAnyAsync<Exception>(() => queued);
        Assert.Equal(1, _recording.BatchCount);
    }

    [Fact]
    public async Task A_malformed_write_is_rejected_alone_at_the_door()
    {
        await using var writer = NewWriter();
        // Thrown synchronously: the caller's bug, not a queued failure.
        Assert.Throws<ArgumentException>(() => { _ = writer.WriteAsync(W("bad/1", 1, [E(2), E(4)])); });
        Assert.Throws<ArgumentException>(() => { _ = writer.WriteAsync(W("", 1)); });
        Assert.Equal(0, _recording.BatchCount);
    }

    [Fact]
    public async Task Reports_batches_writes_bytes_and_commit_latency()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var longs = new Dictionary<string, long>();
        var counts = new Dictionary<string, int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Storage.LogWriter" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(string name, long value)
        {
            lock (longs)
            {
                longs[name] = longs.GetValueOrDefault(name) + value;
                counts[name] = counts.GetValueOrDefault(name) + 1;
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, _, _) => Record(i.Name, v));
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => Record(i.Name, v));
        listener.SetMeasurementEventCallback<double>((i, _, _, _) => Record(i.Name, 1));
        listener.Start();

        var inc = await _store.AcquireIncarnationAsync("metrics/1");
        await using (var writer = NewWriter(meters: factory))
        {
            await Task.WhenAll(Enumerable.Range(1, 20).Select(i => writer.WriteAsync(W("metrics/1", inc, [E(i)]))));
        }

        var batches = _recording.BatchCount;
        lock (longs)
        {
            Assert.Equal(batches, longs["storage.logwriter.batches"]);
            Assert.Equal(20, longs["storage.logwriter.batch.writes"]);
            Assert.Equal(batches, counts["storage.logwriter.batch.writes"]);
            Assert.Equal(20, longs["storage.logwriter.writes"]);
            Assert.Equal(batches, counts["storage.logwriter.commit.duration"]);
            Assert.True(longs["storage.logwriter.bytes"] >= 20 * E(1).Size);
        }
    }

    [Fact]
    public async Task The_service_registration_builds_a_working_writer_that_drains_on_dispose()
    {
        var db = await _postgres.CreateDatabaseAsync("di");
        var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .Configure<StorageOptions>(o => o.ConnectionString = db)
            .Configure<LogWriterOptions>(o => o.MaxWritesPerBatch = 4)
            .AddRaftLogPersistence()
            .BuildServiceProvider();
        Task<WriteOutcome>[] writes;
        long incarnation;
        await using (services)
        {
            var store = services.GetRequiredService<IRaftLogStore>();
            Assert.IsType<PostgresLogStore>(store);
            incarnation = await store.AcquireIncarnationAsync("di/1");
            var writer = services.GetRequiredService<LogWriter>();
            writes = Enumerable.Range(1, 10).Select(i => writer.WriteAsync(W("di/1", incarnation, [E(i)]))).ToArray();
        }

        Assert.All(await Task.WhenAll(writes), o => Assert.Equal(WriteOutcome.Committed, o));
        await using var check = new PostgresLogStore(db);
        Assert.Equal(10, (await check.LoadAsync("di/1", 0)).Entries.Count);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 10 s");
            await Task.Delay(5);
        }
    }
}
