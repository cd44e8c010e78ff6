using Storage.Bench.Baseline;
using Storage.Client;

namespace Storage.Bench.Drivers;

/// <summary>
/// The plain Orleans way, for comparison: one <see cref="IPlainKeyGrain"/> per key on the same silos, each write a
/// <c>WriteStateAsync</c> through AdoNet grain storage on PostgreSQL. Connects like the store's client (same
/// cluster options) and calls the grains through its Orleans client directly: no retries, no dedup.
/// </summary>
public sealed class OrleansGrainDriver(StorageClientOptions options) : IBenchDriver
{
    private StorageClient? _client;
    private IClusterClient? _cluster;

    public string Name => "orleans";

    public string ReadSemantics => "activation memory (single activation per key)";

    public async Task PrepareAsync(CancellationToken ct)
    {
        _client = await StorageClient.ConnectAsync(options, ct).ConfigureAwait(false);
        _cluster = _client.ClusterClient;
    }

    public async ValueTask ReadAsync(string key, CancellationToken ct) =>
        await Grain(key).GetAsync().WaitAsync(ct).ConfigureAwait(false);

    public async ValueTask WriteAsync(string key, byte[] value, CancellationToken ct) =>
        await Grain(key).SetAsync(value).WaitAsync(ct).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private IPlainKeyGrain Grain(string key) =>
        (_cluster ?? throw new InvalidOperationException("PrepareAsync was not called")).GetGrain<IPlainKeyGrain>(key);
}
