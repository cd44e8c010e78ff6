namespace Storage;

/// <summary>
/// The replica could not finish in time (no quorum, election under way). For a write the outcome is unknown.
/// Thrown by replicas and retried by the router (see <see cref="TransientErrors"/>); it reaches an application only
/// as the inner error of a <see cref="ShardUnavailableException"/>.
/// </summary>
[GenerateSerializer, Alias("Storage.ShardBusyException")]
public sealed class ShardBusyException : StorageException
{
    public ShardBusyException(string message) : base(message) { }

    public override bool IsTransient => true;
}
