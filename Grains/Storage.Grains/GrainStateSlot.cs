using Orleans.Storage;

namespace Storage;

/// <summary>
/// One named state of a grain in Orleans grain storage, read and written when the grain says so. Used instead of
/// <c>[PersistentState]</c>, which loads the state in the grain lifecycle before <c>OnActivateAsync</c>: a storage
/// failure there fails the activation with the provider's own exception (an Npgsql error inside an
/// <c>OrleansException</c>), which Orleans hands to the caller untranslated and cannot serialize. Read by the grain
/// (in <c>OnActivateAsync</c> or its first call), the failure passes the store's error translation. Same provider and
/// state name as the attribute used, so the same rows.
/// </summary>
internal sealed class GrainStateSlot<T>
    where T : class, new()
{
    private readonly IGrainStorage _storage;
    private readonly string _name;
    private readonly GrainId _grainId;
    private readonly GrainState<T> _state = new(new T());

    public GrainStateSlot(IGrainStorage storage, string name, GrainId grainId)
    {
        _storage = storage;
        _name = name;
        _grainId = grainId;
    }

    public T State
    {
        get => _state.State!;
        set => _state.State = value;
    }

    /// <summary>Loads the stored state (a new <typeparamref name="T"/> if none), with its ETag for the next write.</summary>
    public async Task ReadStateAsync()
    {
        await _storage.ReadStateAsync(_name, _grainId, _state);
        _state.State ??= new T();
    }

    /// <summary>Stores the state; <see cref="InconsistentStateException"/> if another writer changed it since our read or write.</summary>
    public Task WriteStateAsync() => _storage.WriteStateAsync(_name, _grainId, _state);

    /// <summary>Deletes the stored state (read it first: the delete is checked against the ETag); the slot holds a new <typeparamref name="T"/>.</summary>
    public async Task ClearStateAsync()
    {
        await _storage.ClearStateAsync(_name, _grainId, _state);
        _state.State = new T();
    }
}
