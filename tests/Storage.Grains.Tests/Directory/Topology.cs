using Storage.Directory;

namespace Storage.Grains.Tests.Directory;

/// <summary>Silo sets and placement measurements shared by the directory tests.</summary>
internal static class Topology
{
    /// <summary>Silos "{prefix}-{n}" spread round-robin over the given (region, zone) slots.</summary>
    public static List<SiloInfo> Silos(int count, (string Region, string Zone)[] slots, string prefix = "silo", int weight = 1) =>
        Enumerable.Range(0, count)
            .Select(i => new SiloInfo($"{prefix}-{i}", slots[i % slots.Length].Region, slots[i % slots.Length].Zone, weight))
            .ToList();

    public static readonly (string, string)[] ThreeRegionsTwoZones =
        [("eu", "eu-a"), ("us", "us-a"), ("ap", "ap-a"), ("eu", "eu-b"), ("us", "us-b"), ("ap", "ap-b")];

    public static readonly (string, string)[] OneRegionThreeZones = [("eu", "a"), ("eu", "b"), ("eu", "c")];

    public static readonly (string, string)[] Flat = [("eu", "a")];

    public static IReadOnlyDictionary<int, IReadOnlyList<SiloInfo>> Place(IEnumerable<SiloInfo> silos, int shards, int replicas) =>
        new PreferenceListPlacement(silos).Place(Enumerable.Range(0, shards), replicas);

    /// <summary>Replicas whose silo changed: per shard, the members of the new set that were not in the old one.</summary>
    public static int Moved(IReadOnlyDictionary<int, IReadOnlyList<SiloInfo>> before, IReadOnlyDictionary<int, IReadOnlyList<SiloInfo>> after) =>
        before.Keys.Sum(shard => after[shard].Select(s => s.SiloKey).Except(before[shard].Select(s => s.SiloKey)).Count());

    public static Dictionary<string, int> ReplicaCounts(IReadOnlyDictionary<int, IReadOnlyList<SiloInfo>> placement) =>
        placement.Values.SelectMany(list => list).GroupBy(s => s.SiloKey).ToDictionary(g => g.Key, g => g.Count());

    public static Dictionary<string, int> LeaderCounts(IReadOnlyDictionary<int, IReadOnlyList<SiloInfo>> placement) =>
        placement.Values.GroupBy(list => list[0].SiloKey).ToDictionary(g => g.Key, g => g.Count());
}
