using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace Storage.Bench.Drivers;

/// <summary>
/// An etcd cluster through dotnet-etcd (gRPC, round-robin over the given members). Writes are <c>Put</c>s (etcd
/// acknowledges once a quorum has the entry in its fsynced WAL); reads are linearizable <c>Range</c> requests by
/// default (ReadIndex through the leader) and serializable ones — served by whichever member is asked, possibly
/// stale — when the consistency is eventual.
/// </summary>
public sealed class EtcdDriver(string endpoints, BenchConsistency consistency) : IBenchDriver
{
    private readonly bool _serializable = consistency == BenchConsistency.Eventual;
    private EtcdClient? _client;

    public string Name => "etcd";

    public string ReadSemantics => _serializable ? "serializable range (member-local, may be stale)" : "linearizable range (ReadIndex)";

    public async Task PrepareAsync(CancellationToken ct)
    {
        _client = new EtcdClient(endpoints, configureChannelOptions: o =>
        {
            // Let the channel open more HTTP/2 connections when one connection's stream limit is reached, so that
            // high concurrency is not throttled by the client.
            if (o.HttpHandler is SocketsHttpHandler handler)
            {
                handler.EnableMultipleHttp2Connections = true;
            }
        });

        // One linearizable read proves that the cluster has a leader and answers.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await _client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("bench-probe") }, cancellationToken: timeout.Token).ConfigureAwait(false);
    }

    public async ValueTask ReadAsync(string key, CancellationToken ct) =>
        await Client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = _serializable }, cancellationToken: ct).ConfigureAwait(false);

    public async ValueTask WriteAsync(string key, byte[] value, CancellationToken ct) =>
        // The runner never changes a value array while a write runs, so wrapping it without a copy is safe.
        await Client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = UnsafeByteOperations.UnsafeWrap(value) }, cancellationToken: ct).ConfigureAwait(false);

    public ValueTask DisposeAsync()
    {
        _client?.Dispose();
        return ValueTask.CompletedTask;
    }

    private EtcdClient Client => _client ?? throw new InvalidOperationException("PrepareAsync was not called");
}
