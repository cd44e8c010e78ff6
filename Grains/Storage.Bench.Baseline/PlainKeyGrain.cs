namespace Storage.Bench.Baseline;

/// <summary>
/// A benchmark baseline only (see <see cref="IPlainKeyGrain"/>): one activation per key, its value in an
/// <see cref="IPersistentState{TState}"/> of the silo's checkpoint grain storage (AdoNet on PostgreSQL), and one
/// <c>WriteStateAsync</c> per <see cref="SetAsync"/> — what an Orleans app does without the store. Nothing in the
/// store calls it; a silo hosts it only because the silo references this assembly.
/// </summary>
public sealed class PlainKeyGrain(
    [PersistentState("value", PlainKeyGrain.StorageProvider)] IPersistentState<PlainKeyState> state) : Grain, IPlainKeyGrain
{
    /// <summary>
    /// The grain storage provider the baseline writes through: the one the silo configures for the store's own
    /// checkpoints (<c>Storage.StorageProviders.Checkpoints</c>), so that both write to the same PostgreSQL the same
    /// way. A constant of its own because this assembly must not depend on the store's grains; PlainKeyGrainTests
    /// (tests/Storage.Bench.Tests) runs the grain on a silo wired like the product, so a mismatch fails there.
    /// </summary>
    public const string StorageProvider = "checkpoints";

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
