using System.Reflection;
using Orleans.TestingHost;

namespace Storage.TestKit;

/// <summary>Makes an in-process test cluster use the configured (AdoNet) membership instead of its in-memory one.</summary>
public static class TestClusterMembership
{
    /// <summary>
    /// InProcessTestClusterBuilder (Orleans 10.4.2) always wires its in-memory membership table and grain
    /// directory, registered after ours so they would win, and keeps the switch internal. If a later Orleans
    /// renames the switch this fails loudly instead of silently testing the in-memory table.
    /// </summary>
    public static void UseRealMembership(InProcessTestClusterOptions options)
    {
        var flag = typeof(InProcessTestClusterOptions).GetProperty("UseTestClusterMembership", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("InProcessTestClusterOptions.UseTestClusterMembership is gone; revisit how test clusters disable the in-memory membership.");
        flag.SetValue(options, false);
    }
}
