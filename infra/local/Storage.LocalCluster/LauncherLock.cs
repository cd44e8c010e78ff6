using Storage.Development;

namespace Storage.LocalCluster;

/// <summary>
/// One launcher per data folder: an exclusive <see cref="FileLock"/> on <c>&lt;data&gt;/local-cluster.lock</c>, held
/// while the cluster runs. The kernel drops the lock when its holder dies, however it dies, so getting it also proves
/// that any processes listed in the state file belong to a launcher that is gone.
/// </summary>
internal static class LauncherLock
{
    /// <param name="path">The lock file.</param>
    /// <param name="statePath">The state file, read only to name the holder in the error.</param>
    public static FileLock Acquire(string path, string statePath)
    {
        if (FileLock.TryAcquire(path, out var failure) is { } acquired)
        {
            return acquired;
        }

        var holder = LauncherState.Read(statePath)?.LauncherPid is { } pid ? $" (launcher pid {pid})" : string.Empty;
        throw new LocalClusterException(
            $"Another local cluster is already running on {Path.GetDirectoryName(path)}{holder}. "
            + "Stop it first (Ctrl-C in its terminal, or kill -TERM its pid), or use another --data-dir.", failure!);
    }
}
