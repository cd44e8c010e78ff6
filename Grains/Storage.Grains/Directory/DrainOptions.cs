namespace Storage.Directory;

/// <summary>What a silo does when it is asked to stop (configuration section <c>Storage:Drain</c>).</summary>
public sealed class DrainOptions
{
    public const string SectionName = "Storage:Drain";

    /// <summary>
    /// Scale-in is a drain: on a graceful stop (SIGTERM) the silo asks the directory to move its replicas and
    /// preferred leaders elsewhere and waits for that before it leaves. Off: it only hands off its leaderships.
    /// </summary>
    public bool OnShutdown { get; set; } = true;

    /// <summary>
    /// The longest a stopping silo waits for its replicas to move. The host's shutdown timeout (and a pod's
    /// <c>terminationGracePeriodSeconds</c>) must be longer. The wait also ends early when nothing more can move
    /// (no other silo can take the replicas that are left) or when every replica has moved.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);
}
