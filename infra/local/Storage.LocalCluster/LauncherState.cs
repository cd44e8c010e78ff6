using System.Text.Json;

namespace Storage.LocalCluster;

/// <summary>
/// What a running launcher has started, kept in <c>&lt;data&gt;/local-cluster.json</c> so that the next start can
/// clean up after a launcher that was killed before it could (see <see cref="LauncherLock"/>).
/// </summary>
internal sealed record LauncherState(int LauncherPid, PostgresRecord? Postgres, IReadOnlyList<ProcessRecord> Silos)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static LauncherState? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<LauncherState>(File.ReadAllText(path), Json);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (JsonException)
        {
            // A torn write from a killed launcher: nothing trustworthy to clean up from.
            return null;
        }
    }

    /// <summary>Replaces the file atomically (write, then rename) so a reader never sees half of it.</summary>
    public void Write(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>One process, named by pid and start time (pids are recycled, the pair is not).</summary>
internal sealed record ProcessRecord(string Name, int Pid, long StartTime);

/// <summary>The embedded server a launcher started (not one it merely attached to).</summary>
internal sealed record PostgresRecord(string DataDirectory, int PostmasterPid);
