namespace Storage.LocalCluster.Tests;

/// <summary>
/// A fresh folder under /tmp (traversable by the postgres user, unlike /root), deleted on dispose unless the
/// environment has STORAGE_TEST_KEEP_DATA=1 (to read the silo logs of a failed run).
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix) =>
        Path = System.IO.Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)])).FullName;

    public string Path { get; }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("STORAGE_TEST_KEEP_DATA") == "1")
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is not worth failing a test for.
        }
    }
}
