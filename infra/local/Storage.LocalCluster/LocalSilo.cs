using System.Diagnostics;
using System.Globalization;

namespace Storage.LocalCluster;

/// <summary>One silo process of a <see cref="LocalCluster"/>: where it listens, where it logs, and its current process.</summary>
public sealed class LocalSilo
{
    internal LocalSilo(int index, string name, string region, string zone, int slot, int siloPort, int gatewayPort, int httpPort, string logFile)
    {
        Index = index;
        Name = name;
        Region = region;
        Zone = zone;
        Slot = slot;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        LogFile = logFile;
    }

    public int Index { get; }

    /// <summary>The Orleans silo name (also the log file's name).</summary>
    public string Name { get; }

    public string Region { get; }

    public string Zone { get; }

    /// <summary>
    /// Which block of ports the silo uses: its ports are the cluster's base ports plus the slot. A silo's first slot is
    /// its index; a restart under a new address takes a slot no silo has used yet.
    /// </summary>
    public int Slot { get; private set; }

    public int SiloPort { get; private set; }

    public int GatewayPort { get; private set; }

    public int HttpPort { get; private set; }

    /// <summary>The silo's key in shard maps and status: its name (<c>Storage:SiloName</c>), whatever its ports.</summary>
    public string SiloKey => Name;

    public Uri ReadyUrl => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{HttpPort}/health/ready"));

    /// <summary>Everything the silo writes to stdout and stderr, appended across restarts.</summary>
    public string LogFile { get; }

    /// <summary>The current (or last) process; null before the first start.</summary>
    internal Process? Process { get; set; }

    /// <summary>The process id of the current (or last) incarnation; 0 before the first start.</summary>
    public int Pid { get; internal set; }

    /// <summary>How many times this silo has been started.</summary>
    public int Starts { get; internal set; }

    /// <summary>True while the process exists (a paused process counts as running).</summary>
    public bool IsRunning => Process is { } p && !p.HasExited;

    public bool IsPaused { get; internal set; }

    /// <summary>The exit code of the last incarnation once it has exited.</summary>
    public int? ExitCode => Process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Gives the silo other ports (a new address) for its next start; only while it does not run.</summary>
    internal void MoveTo(int slot, int siloPort, int gatewayPort, int httpPort)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} still runs on its old ports");
        }

        Slot = slot;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} ({Region}/{Zone}) silo {SiloPort}, gateway {GatewayPort}, http {HttpPort}, pid {Pid}");
}
