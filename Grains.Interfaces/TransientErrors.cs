using Orleans.Runtime.Messaging;

namespace Storage;

/// <summary>
/// The one answer to "is this failure worth retrying?", shared by the router (inside the cluster, calling replicas)
/// and <c>StorageClient</c> (outside it, calling a gateway). A transient failure leaves a write's outcome unknown,
/// so it is retried with the same <see cref="WriteId"/>; a definite one (bad input, a version conflict) would only
/// fail again.
/// </summary>
public static class TransientErrors
{
    /// <summary>
    /// True for a <see cref="StorageException"/> marked transient (an unavailable or busy shard, an unavailable storage
    /// backend), a timeout, a lost, busy or unreachable silo or gateway, and an Orleans
    /// error caused by one of these; false for the store's definite errors and anything unrecognised.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        StorageException storage => storage.IsTransient,
        TimeoutException => true,
        OrleansMessageRejectionException => true, // includes SiloUnavailableException
        GatewayTooBusyException => true,
        ConnectionFailedException => true,
        OrleansException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };

    /// <summary>
    /// For a call from one grain to another (the router calling a replica): <see cref="IsTransient"/>, and also any
    /// other Orleans runtime failure and a cancelled call. Inside the cluster these mean that the target's silo or
    /// activation went away mid-call (placement finding no compatible silo while silos come and go, a deactivation
    /// cancelling the wait), and the answer is the same as for any transient failure: another replica or a later
    /// attempt. A client does not retry them: its cancellation is its own, and an unrecognised failure is reported.
    /// </summary>
    public static bool IsTransientInCluster(Exception exception) =>
        exception is OrleansException or OperationCanceledException || IsTransient(exception);
}
