namespace Storage.LocalCluster;

/// <summary>Where the cluster keeps its data, where the silo is, and which dotnet runs it.</summary>
internal static class HostPaths
{
    /// <summary>The given data folder, else &lt;repo&gt;/.data.</summary>
    public static string DataDirectory(LocalClusterOptions options)
    {
        if (options.DataDirectory is { } given)
        {
            return Path.GetFullPath(given);
        }

        var root = RepositoryRoot.Find()
            ?? throw new LocalClusterException(
                $"Could not find the repository root ({RepositoryRoot.SolutionFile}) above {AppContext.BaseDirectory} or the current directory, to keep data in <repo>/.data; pass --data-dir.");
        return Path.Combine(root, ".data");
    }

    /// <summary>The folder holding the silo (its dll and runtimeconfig): the given one, else the launcher's own.</summary>
    public static string SiloDirectory(LocalClusterOptions options, string siloAssembly)
    {
        var dir = Path.GetFullPath(options.SiloDirectory ?? AppContext.BaseDirectory);
        foreach (var file in new[] { siloAssembly, Path.ChangeExtension(siloAssembly, ".runtimeconfig.json") })
        {
            if (!File.Exists(Path.Combine(dir, file)))
            {
                throw new LocalClusterException($"{file} is not in {dir}: build the launcher (its project reference copies the silo next to it) or pass the silo's folder.");
            }
        }

        return dir;
    }

    /// <summary>The dotnet host to run the silos with.</summary>
    public static string Dotnet(LocalClusterOptions options)
    {
        if (options.DotnetPath is { } given)
        {
            return File.Exists(given) ? given : throw new LocalClusterException($"dotnet host {given} does not exist");
        }

        // The SDK sets DOTNET_HOST_PATH for what it runs (dotnet test, dotnet run); `dotnet x.dll` runs as dotnet itself.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        var roots = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Prepend(Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? string.Empty);
        foreach (var dir in roots.Where(d => d.Length > 0))
        {
            var candidate = Path.Combine(dir, "dotnet");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new LocalClusterException("Could not find the dotnet host (not on PATH, DOTNET_ROOT or DOTNET_HOST_PATH) to run the silos with.");
    }
}
