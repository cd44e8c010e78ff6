namespace Storage.Bench.Baseline;

/// <summary>
/// A benchmark baseline only, not part of the store's API: "the plain Orleans way" of keeping a key-value pair —
/// one grain per key whose value is persisted with Orleans grain storage (AdoNet, PostgreSQL) on every write.
/// <c>storage bench --driver orleans</c> drives it so that the store's numbers can be compared with what an app
/// would get from Orleans alone. It has no replication of its own (durability is the database's), no
/// exactly-once writes and no consistency choice: reads are served from the activation's memory.
/// </summary>
/// <remarks>The alias is the type's original full name, kept so that its id on the wire does not change with the namespace.</remarks>
[Alias("Storage.Baseline.IPlainKeyGrain")]
public interface IPlainKeyGrain : IGrainWithStringKey
{
    /// <summary>The value last set, or null when the key was never set.</summary>
    [Alias("Get")]
    Task<byte[]?> GetAsync();

    /// <summary>Sets the value and returns once grain storage has written it; returns the key's new version (1, 2, ...).</summary>
    [Alias("Set")]
    Task<long> SetAsync(byte[] value);
}
