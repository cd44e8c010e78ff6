using Storage.Client;

namespace Storage.Bench.Drivers;

/// <summary>This store through the app client: <see cref="StorageClient.GetAsync"/> and <see cref="StorageClient.PutAsync(string, byte[], CancellationToken)"/> (exactly-once writes from its session pool).</summary>
public sealed class StoreDriver(StorageClientOptions options, BenchConsistency consistency) : IBenchDriver
{
    private readonly ReadConsistency readConsistency = consistency == BenchConsistency.Eventual ? ReadConsistency.Eventual : ReadConsistency.Linearizable;
    private StorageClient? client;

    public string Name => "store";

    public string ReadSemantics => readConsistency == ReadConsistency.Linearizable
        ? "linearizable (leader ReadIndex/lease)"
        : "eventual (any replica)";

    public async Task PrepareAsync(CancellationToken ct)
    {
        client = await StorageClient.ConnectAsync(options, ct).ConfigureAwait(false);
    }

    public async ValueTask ReadAsync(string key, CancellationToken ct) =>
        await Client.GetAsync(key, readConsistency, ct).ConfigureAwait(false);

    public async ValueTask WriteAsync(string key, byte[] value, CancellationToken ct) =>
        await Client.PutAsync(key, value, ct).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (client is not null)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private StorageClient Client => client ?? throw new InvalidOperationException("PrepareAsync was not called");
}
