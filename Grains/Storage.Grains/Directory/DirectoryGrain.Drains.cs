namespace Storage.Directory;

// Drains: silos asked to leave (by an operator, or by their own shutdown).
public sealed partial class DirectoryGrain
{
    public async Task Drain(string silo, bool leaving)
    {
        await _gate.WaitAsync();
        try
        {
            await DrainCoreAsync(silo, leaving);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task Undrain(string silo)
    {
        await _gate.WaitAsync();
        try
        {
            await UndrainCoreAsync(silo);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DrainCoreAsync(string silo, bool leaving)
    {
        await LoadAsync();
        if (string.IsNullOrWhiteSpace(silo) || !IsKnownSilo(silo))
        {
            throw new InvalidRequestException($"unknown silo '{silo}': name a silo of this cluster (see storage status)");
        }

        var existing = _state.State.Drains.FindIndex(d => d.Silo == silo);
        if (existing >= 0 && (_state.State.Drains[existing].Leaving == leaving || !_state.State.Drains[existing].Leaving))
        {
            return; // already drained (an operator's drain is not weakened into a "leaving" one)
        }

        var drain = new SiloDrain(silo, leaving, DateTime.UtcNow);
        if (existing >= 0)
        {
            _state.State.Drains[existing] = drain;
        }
        else
        {
            _state.State.Drains.Add(drain);
        }

        await PersistAsync();
        LogDraining(silo, leaving ? "its shutdown" : "an operator");
    }

    private async Task UndrainCoreAsync(string silo)
    {
        await LoadAsync();
        if (string.IsNullOrWhiteSpace(silo) || !IsKnownSilo(silo))
        {
            throw new InvalidRequestException($"unknown silo '{silo}': name a silo of this cluster (see storage status)");
        }

        if (_state.State.Drains.RemoveAll(d => d.Silo == silo) > 0)
        {
            await PersistAsync();
            LogUndrained(silo);
        }
    }

    public async Task<PlacementStatus> GetPlacement()
    {
        await LoadAsync();
        return new PlacementStatus(
            _published?.Version ?? 0,
            _state.State.Moves.ToList(),
            _state.State.Drains.Select(d => d.Silo).ToList(),
            GivenUpSilos(),
            _state.State.MovesMade);
    }

    private bool IsKnownSilo(string silo) =>
        _membership.CurrentSnapshot.Members.Values.Any(m => SiloKeys.Of(m) == silo)
        || _state.State.Map?.Shards.Any(s => s.Replicas.Any(r => r.SiloKey == silo)) == true;

    private bool IsDraining(string silo) => _state.State.Drains.Any(d => d.Silo == silo);
}
