using Orleans.Runtime;

namespace Storage.Persistence.Tests;

/// <summary>What the test grain persists through the "checkpoints" AdoNet grain storage.</summary>
[GenerateSerializer, Alias("Storage.Persistence.Tests.CheckpointState")]
public sealed class CheckpointState
{
    [Id(0)]
    public string? Value { get; set; }

    [Id(1)]
    public long Index { get; set; }
}

/// <summary>What a read of the test grain reports: the stored value and which activation answered.</summary>
[GenerateSerializer, Alias("Storage.Persistence.Tests.CheckpointReading")]
public sealed record CheckpointReading(
    [property: Id(0)] string? Value,
    [property: Id(1)] long Index,
    [property: Id(2)] Guid Activation,
    [property: Id(3)] string? ETag,
    [property: Id(4)] bool RecordExists,
    [property: Id(5)] string Silo);

[Alias("Storage.Persistence.Tests.ICheckpointTestGrain")]
public interface ICheckpointTestGrain : IGrainWithStringKey
{
    [Alias("Write")]
    Task Write(string value, long index);

    [Alias("Read")]
    Task<CheckpointReading> Read();

    [Alias("Clear")]
    Task Clear();
}

/// <summary>A grain whose only job is to round-trip <see cref="CheckpointState"/> through grain storage.</summary>
// Random placement: the test of grains spreading over both silos must not depend on load-based placement.
[Orleans.Placement.RandomPlacement]
public sealed class CheckpointTestGrain : Grain, ICheckpointTestGrain
{
    private readonly IPersistentState<CheckpointState> _state;
    private readonly Guid _activation = Guid.NewGuid();

    public CheckpointTestGrain([PersistentState("checkpoint", OrleansAdoNetTests.StorageName)] IPersistentState<CheckpointState> state)
    {
        _state = state;
    }

    public async Task Write(string value, long index)
    {
        _state.State.Value = value;
        _state.State.Index = index;
        await _state.WriteStateAsync();
    }

    public Task<CheckpointReading> Read() =>
        Task.FromResult(new CheckpointReading(_state.State.Value, _state.State.Index, _activation, _state.Etag, _state.RecordExists, RuntimeIdentity));

    public Task Clear() => _state.ClearStateAsync();
}
