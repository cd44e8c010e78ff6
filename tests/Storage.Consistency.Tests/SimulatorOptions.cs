namespace Storage.Consistency.Tests;

/// <summary>Shape of a generated history.</summary>
internal sealed record SimulatorOptions
{
    public int Operations { get; init; } = 200;

    public int Keys { get; init; } = 3;

    /// <summary>Clients with one operation in flight each: the concurrency.</summary>
    public int Clients { get; init; } = 5;

    /// <summary>Chance that an operation's answer is lost after it took effect (and weight of timeouts before it).</summary>
    public double UnknownRate { get; init; } = 0.05;

    /// <summary>Weight, against <see cref="UnknownRate"/>, of giving up with a definite failure instead of a timeout.</summary>
    public double FailRate { get; init; } = 0.02;

    /// <summary>Chance that a write uses one of a few shared values instead of a fresh one (makes reads ambiguous).</summary>
    public double SharedValueRate { get; init; } = 0.3;

    public static SimulatorOptions Random(Random rng) => new()
    {
        Operations = rng.Next(20, 400),
        Keys = rng.Next(1, 6),
        Clients = rng.Next(1, 12),
        UnknownRate = new[] { 0.0, 0.02, 0.05, 0.15 }[rng.Next(4)],
        FailRate = new[] { 0.0, 0.02, 0.1 }[rng.Next(3)],
        SharedValueRate = new[] { 0.0, 0.3, 0.8 }[rng.Next(3)],
    };
}
