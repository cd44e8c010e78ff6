namespace Storage;

/// <summary>
/// The store's settings for a silo: configuration section <c>Storage</c> (environment <c>Storage__Region=eu</c>,
/// command line <c>--Storage:Region=eu</c>). The tuning of each part has a section of its own below it
/// (<c>Storage:Replica</c>, <c>Storage:Directory</c>, <c>Storage:Router</c>, <c>Storage:Limits</c>,
/// <c>Storage:LogWriter</c>, <c>Storage:Database</c>).
/// </summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Storage";

    /// <summary>The PostgreSQL that holds membership, checkpoints and the Raft logs. Required.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>This silo's region; placement spreads each shard's replicas over regions first.</summary>
    public string Region { get; set; } = "local";

    /// <summary>This silo's zone within its region; placement spreads over zones next.</summary>
    public string Zone { get; set; } = "local-a";
}
