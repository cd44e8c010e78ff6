namespace Storage;

/// <summary>
/// A silo as the directory sees it for placement. <see cref="SiloKey"/> must be stable across restarts
/// (e.g. the pod name), because placement hashes it: a silo that comes back under the same key gets the
/// same replicas. <see cref="Weight"/> is relative capacity; 0 means "place nothing here" (draining).
/// </summary>
[GenerateSerializer, Alias("Storage.SiloInfo")]
public sealed record SiloInfo(
    [property: Id(0)] string SiloKey,
    [property: Id(1)] string Region,
    [property: Id(2)] string Zone,
    [property: Id(3)] int Weight);
