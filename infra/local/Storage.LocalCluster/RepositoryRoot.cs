namespace Storage.LocalCluster;

/// <summary>Finds the checkout this launcher was built from, by walking up to the folder holding Storage.sln.</summary>
public static class RepositoryRoot
{
    public const string SolutionFile = "Storage.sln";

    /// <summary>The repository root above the launcher's own folder, else above the current directory; null when neither is in a checkout.</summary>
    public static string? Find() => FindAbove(AppContext.BaseDirectory) ?? FindAbove(System.IO.Directory.GetCurrentDirectory());

    public static string? FindAbove(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
