namespace Storage.Baseline;

/// <summary>
/// A benchmark baseline only (see <see cref="IPlainKeyGrain"/>): one activation per key, its value in an
/// <see cref="IPersistentState{TState}"/> of the <see cref="StorageProviders.Checkpoints"/> provider (AdoNet on
/// PostgreSQL), and one <c>WriteStateAsync</c> per <see cref="SetAsync"/> — what an Orleans app does without the
/// store. Nothing in the store calls it; it is registered only because grains are discovered from this assembly.
/// </summary>
public sealed class PlainKeyGrain(
    [PersistentState("value", StorageProviders.Checkpoints)] IPersistentState<PlainKeyState> state) : Grain, IPlainKeyGrain
{
    public Task<byte[]?> GetAsync() => Task.FromResult(state.State.Value);

    public async Task<long> SetAsync(byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        state.State.Value = value;
        state.State.Version++;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            // Another activation wrote first (the default grain directory allows brief duplicates): this one's
            // ETag is stale for good, so let it go and let the next call activate afresh from storage.
            DeactivateOnIdle();
            throw;
        }

        return state.State.Version;
    }
}

/// <summary>What <see cref="PlainKeyGrain"/> persists.</summary>
[GenerateSerializer, Alias("Storage.Baseline.PlainKeyState")]
public sealed class PlainKeyState
{
    [Id(0)]
    public byte[]? Value { get; set; }

    [Id(1)]
    public long Version { get; set; }
}
