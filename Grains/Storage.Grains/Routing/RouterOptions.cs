namespace Storage.Routing;

/// <summary>Retry budget of the router (configuration section <c>Storage:Router</c>).</summary>
public sealed class RouterOptions
{
    /// <summary>How long one operation keeps retrying (other replicas, new leaders) before ShardUnavailable.</summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Pause before retrying when no leader is known (doubles up to 16x).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Largest page a scan returns.</summary>
    public int MaxScanLimit { get; set; } = 10_000;
}
