using System.Text;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>Get/Put/Delete/CAS semantics and versions, scans across shards, and bad input, through IStore.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class KeyValueTests
{
    private readonly IStore _store;
    private readonly Guid _client = Guid.NewGuid();
    private long _sequence;

    public KeyValueTests(SharedClusterFixture fixture) => _store = fixture.Store;

    private WriteId Next() => new(_client, Interlocked.Increment(ref _sequence));

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task PutThenGetReturnsTheValueAndAVersionThatGrowsWithEachWrite()
    {
        var first = await _store.PutAsync("kv/a", B("1"), Next());
        var second = await _store.PutAsync("kv/a", B("2"), Next());
        var read = await _store.GetAsync("kv/a");

        Assert.False(first.Existed);
        Assert.True(second.Existed);
        Assert.True(second.Version > first.Version);
        Assert.True(read.Found);
        Assert.Equal("2", Encoding.UTF8.GetString(read.Value!));
        Assert.Equal(second.Version, read.Version);
    }

    [Fact]
    public async Task MissingKeyIsNotFoundWithVersionZero()
    {
        var read = await _store.GetAsync("kv/never-written");
        Assert.False(read.Found);
        Assert.Equal(0, read.Version);
    }

    [Fact]
    public async Task DeleteRemovesTheKeyAndDeletingAgainSucceedsWithoutEffect()
    {
        await _store.PutAsync("kv/d", B("x"), Next());
        var deleted = await _store.DeleteAsync("kv/d", Next());
        var again = await _store.DeleteAsync("kv/d", Next());

        Assert.True(deleted.Existed);
        Assert.False(again.Existed);
        Assert.False((await _store.GetAsync("kv/d")).Found);
    }

    [Fact]
    public async Task CompareAndSwapAppliesOnlyOnTheExpectedVersion()
    {
        var created = await _store.CompareAndSwapAsync("kv/c", 0, B("v1"), Next());
        var conflict = await Assert.ThrowsAsync<VersionConflictException>(() => _store.CompareAndSwapAsync("kv/c", 0, B("v2"), Next()));
        var swapped = await _store.CompareAndSwapAsync("kv/c", created.Version, B("v3"), Next());
        var stale = await Assert.ThrowsAsync<VersionConflictException>(() => _store.CompareAndSwapAsync("kv/c", created.Version, B("v4"), Next()));

        Assert.Equal(created.Version, conflict.Actual);
        Assert.Equal(swapped.Version, stale.Actual);
        var read = await _store.GetAsync("kv/c");
        Assert.Equal("v3", Encoding.UTF8.GetString(read.Value!));
        Assert.Equal(swapped.Version, read.Version);
    }

    [Fact]
    public async Task EventualReadSeesAWriteOnceReplicated()
    {
        var w = await _store.PutAsync("kv/e", B("x"), Next());
        GetResult read = GetResult.Missing;
        for (var i = 0; i < 50 && read.Version < w.Version; i++)
        {
            read = await _store.GetAsync("kv/e", ReadConsistency.Eventual);
            await Task.Delay(50);
        }

        Assert.Equal(w.Version, read.Version);
    }

    [Fact]
    public async Task ScanReturnsEveryShardsKeysInOrderAcrossPages()
    {
        var keys = Enumerable.Range(0, 40).Select(i => $"scan/{i:D3}").ToList();
        // Concurrent writes: one client id each (a client id has one write in flight at a time).
        await Task.WhenAll(keys.Select(k => _store.PutAsync(k, B(k), new WriteId(Guid.NewGuid(), 1))));
        await _store.PutAsync("scanx/other", B("not in the prefix"), Next());

        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await _store.ScanAsync("scan/", after, 7);
            seen.AddRange(page.Items.Select(i => i.Key));
            Assert.All(page.Items, i => Assert.Equal(i.Key, Encoding.UTF8.GetString(i.Value)));
            after = page.ContinueAfter;
            pages++;
        }
        while (after is not null && pages < 20);

        Assert.Equal(keys, seen);
        Assert.Equal(6, pages);
    }

    [Fact]
    public async Task BadInputGetsTypedErrorsAndChangesNothing()
    {
        await Assert.ThrowsAsync<InvalidKeyException>(() => _store.PutAsync("", B("x"), Next()));
        await Assert.ThrowsAsync<InvalidKeyException>(() => _store.PutAsync(new string('k', 1025), B("x"), Next()));
        await Assert.ThrowsAsync<InvalidKeyException>(() => _store.GetAsync(""));
        await Assert.ThrowsAsync<ValueTooLargeException>(() => _store.PutAsync("kv/big", new byte[1024 * 1024 + 1], Next()));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _store.CompareAndSwapAsync("kv/neg", -1, B("x"), Next()));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _store.PutAsync("kv/noid", B("x"), default));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _store.ScanAsync("kv/", null, 0));

        Assert.False((await _store.GetAsync("kv/big")).Found);
        Assert.False((await _store.GetAsync("kv/neg")).Found);
        Assert.False((await _store.GetAsync("kv/noid")).Found);
    }

    [Fact]
    public async Task LargestAllowedKeyAndValueAreAccepted()
    {
        var key = "kv/" + new string('k', 1021);
        var w = await _store.PutAsync(key, new byte[1024 * 1024], Next());
        var read = await _store.GetAsync(key);
        Assert.Equal(w.Version, read.Version);
        Assert.Equal(1024 * 1024, read.Value!.Length);
    }

    [Fact]
    public async Task RetriedWriteWithTheSameIdIsAppliedOnce()
    {
        var id = Next();
        var first = await _store.PutAsync("kv/once", B("a"), id);
        var retry = await _store.PutAsync("kv/once", B("a"), id);
        var read = await _store.GetAsync("kv/once");

        Assert.Equal(first.Version, retry.Version);
        Assert.Equal(first.Version, read.Version);

        // A CAS retried after it succeeded must not turn into a conflict either.
        var casId = Next();
        var cas = await _store.CompareAndSwapAsync("kv/once", first.Version, B("b"), casId);
        var casRetry = await _store.CompareAndSwapAsync("kv/once", first.Version, B("b"), casId);
        Assert.Equal(cas.Version, casRetry.Version);
    }

    [Fact]
    public async Task ALowerSequenceThanOneAppliedIsRefusedAsStale()
    {
        var client = Guid.NewGuid();
        await _store.PutAsync("kv/stale", B("new"), new WriteId(client, 5));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _store.PutAsync("kv/stale", B("old"), new WriteId(client, 4)));
        Assert.Equal("new", Encoding.UTF8.GetString((await _store.GetAsync("kv/stale")).Value!));
    }

    [Fact]
    public async Task StatusShowsSilosWithRegionsAndEveryShardWithALeader()
    {
        var status = await _store.GetStatusAsync();
        Assert.Equal(3, status.Silos.Count(s => s.State == "Active"));
        Assert.Equal(3, status.Silos.Select(s => s.Region).Distinct().Count());
        Assert.All(status.Shards, s =>
        {
            Assert.NotEqual(0, s.LeaderReplica);
            Assert.Equal(3, s.Replicas.Count);
            Assert.Equal(3, s.Replicas.Select(r => r.Silo).Distinct().Count()); // one replica per silo
        });
    }
}
