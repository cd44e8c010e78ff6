namespace Storage.Directory;

/// <summary>
/// A silo asked to leave. <see cref="Leaving"/>: the silo's own shutdown asked (the drain ends when a silo of that
/// name joins again); otherwise an operator did, and it lasts until undrained.
/// </summary>
[GenerateSerializer, Alias("Storage.SiloDrain")]
public sealed record SiloDrain(
    [property: Id(0)] string Silo,
    [property: Id(1)] bool Leaving,
    [property: Id(2)] DateTime Since);
