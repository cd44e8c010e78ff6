using Storage.StateMachine;

namespace Storage;

/// <summary>Size limits on keys and values (configuration section <c>Storage:Limits</c>).</summary>
public sealed class StoreLimitsOptions
{
    public int MaxKeyBytes { get; set; } = StoreLimits.Default.MaxKeyBytes;

    public int MaxValueBytes { get; set; } = StoreLimits.Default.MaxValueBytes;

    public StoreLimits ToLimits() => new() { MaxKeyBytes = MaxKeyBytes, MaxValueBytes = MaxValueBytes };
}
