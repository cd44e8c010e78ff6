using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;
using Orleans.Serialization.Codecs;
using Storage.Shards;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>Every error a client can receive survives the trip from a silo to a client through Orleans' serializer.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class ErrorSerializationTests
{
    private readonly SharedClusterFixture _fixture;

    public ErrorSerializationTests(SharedClusterFixture fixture) => _fixture = fixture;

    /// <summary>One instance of every public <see cref="StorageException"/> type; a new type must be added here.</summary>
    private static readonly Dictionary<Type, Func<StorageException>> Samples = new()
    {
        [typeof(StorageException)] = () => new StorageException("reported on purpose"),
        [typeof(InvalidKeyException)] = () => new InvalidKeyException("empty key"),
        [typeof(ValueTooLargeException)] = () => new ValueTooLargeException("value of 2 MiB over 1 MiB"),
        [typeof(InvalidRequestException)] = () => new InvalidRequestException("negative limit"),
        [typeof(VersionConflictException)] = () => new VersionConflictException("k", 3, 7),
        [typeof(ShardUnavailableException)] = () => new ShardUnavailableException("shard 1 did not answer", new StorageBackendUnavailableException("127.0.0.1", 5432, "storage", "Connection refused")),
        [typeof(ShardBusyException)] = () => new ShardBusyException("no quorum"),
        [typeof(WrongShardException)] = () => new WrongShardException(7),
        [typeof(StorageBackendUnavailableException)] = () => new StorageBackendUnavailableException("db.internal", 6543, "kv", "terminating connection due to administrator command (SQLSTATE 57P01)"),
        [typeof(StorageInternalException)] = () => new StorageInternalException("System.InvalidOperationException", "a bug"),
        [typeof(NotLeaderException)] = () => new NotLeaderException("2/1", 3),
        [typeof(ReplicaRemovedException)] = () => new ReplicaRemovedException("2/1", 9),
    };

    [Fact]
    public void EveryStorageExceptionTypeHasASample()
    {
        var types = new[] { typeof(StorageException).Assembly, typeof(NotLeaderException).Assembly }
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => typeof(StorageException).IsAssignableFrom(t) && !t.IsAbstract)
            .OrderBy(t => t.FullName)
            .ToList();

        Assert.Equal(types, Samples.Keys.OrderBy(t => t.FullName).ToList());
    }

    [Fact]
    public void EveryStorageExceptionRoundTripsFromASiloToAClient()
    {
        var silo = SiloSerializer();
        var client = _fixture.Cluster.Client.ServiceProvider.GetRequiredService<Serializer>();
        foreach (var (type, make) in Samples)
        {
            var sent = make();
            var received = client.Deserialize<Exception>(silo.SerializeToArray<Exception>(sent));

            Assert.IsType(type, received);
            Assert.Equal(sent.Message, received.Message);
            Assert.Equal(sent.IsTransient, ((StorageException)received).IsTransient);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                Assert.Equal(property.GetValue(sent), property.GetValue(received));
            }

            Assert.Equal(sent.InnerException?.GetType(), received.InnerException?.GetType());
            Assert.Equal(sent.InnerException?.Message, received.InnerException?.Message);
        }
    }

    [Fact]
    public void ADriverExceptionHasNoCodecWhichIsWhyItMustNotCrossTheBoundary()
    {
        var pg = new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01");

        Assert.Throws<CodecNotFoundException>(() => SiloSerializer().SerializeToArray<Exception>(pg));
        Assert.Throws<CodecNotFoundException>(() => SiloSerializer().SerializeToArray<Exception>(new ShardUnavailableException("spent", pg)));
    }

    private Serializer SiloSerializer() =>
        _fixture.Cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();
}
