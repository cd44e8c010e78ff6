using Storage.Client;

namespace Storage.Bench.Drivers;

/// <summary>This store through the app client: <see cref="StorageClient.GetAsync"/> and <see cref="StorageClient.PutAsync(string, byte[], CancellationToken)"/> (exactly-once writes from its session pool).</summary>
public sealed class StoreDriver(StorageClientOptions options, BenchConsistency consistency) : IBenchDriver
{
    private readonly ReadConsistency _readConsistency = consistency == BenchConsistency.Eventual ? ReadConsistency.Eventual : ReadConsistency.Linearizable;
    private StorageClient? _client;

    public string Name => "store";

    public string ReadSemantics => _readConsistency == ReadConsistency.Linearizable
        ? "linearizable (leader ReadIndex/lease)"
        : "eventual (any replica)";

    public async Task PrepareAsync(CancellationToken ct)
    {
        _client = await StorageClient.ConnectAsync(options, ct).ConfigureAwait(false);
    }

    public async ValueTask ReadAsync(string key, CancellationToken ct) =>
        await Client.GetAsync(key, _readConsistency, ct).ConfigureAwait(false);

    public async ValueTask WriteAsync(string key, byte[] value, CancellationToken ct) =>
        await Client.PutAsync(key, value, ct).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private StorageClient Client => _client ?? throw new InvalidOperationException("PrepareAsync was not called");
}
