namespace Storage;

/// <summary>
/// The directory's view of placement work: the map version, moves persisted and not yet seen finished, silos being
/// drained, silos given up (absent longer than the grace period; their replicas were re-placed), and how many moves
/// have finished since the map was made.
/// </summary>
[GenerateSerializer, Alias("Storage.PlacementStatus")]
public sealed record PlacementStatus(
    [property: Id(0)] long MapVersion,
    [property: Id(1)] IReadOnlyList<ReplicaMove> Moves,
    [property: Id(2)] IReadOnlyList<string> Draining,
    [property: Id(3)] IReadOnlyList<string> GivenUp,
    [property: Id(4)] long MovesMade);
