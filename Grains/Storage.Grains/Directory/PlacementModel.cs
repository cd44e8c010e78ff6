namespace Storage.Directory;

/// <summary>
/// <see cref="RebalancePlanner"/>'s working copy of a shard map: silos, regions and zones as small integers, each
/// replica's silo (−1 for a silo that is not offered any more: given up), per-silo replica loads and the shards on
/// each silo, kept up to date as moves and leader changes are planned. Nothing here decides anything.
/// </summary>
internal sealed class PlacementModel
{
    private readonly Dictionary<string, int> _regionIds = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Region, string Zone), int> _zoneIds = new();

    public PlacementModel(ShardMap map, IReadOnlyList<SiloInfo> silos)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(silos);
        map.Validate();

        // Sorted by name: results must not depend on the order the caller lists silos in.
        Silos = silos.OrderBy(s => s?.SiloKey, StringComparer.Ordinal).ToArray();
        SiloIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var silo in Silos)
        {
            if (silo is null || string.IsNullOrEmpty(silo.SiloKey) || silo.Region is null || silo.Zone is null)
            {
                throw new ArgumentException("every silo needs a non-empty name, a region and a zone", nameof(silos));
            }

            if (silo.Weight < 0 || silo.Weight > PreferenceListPlacement.MaxWeight)
            {
                throw new ArgumentOutOfRangeException(nameof(silos), silo.Weight, $"weight of silo '{silo.SiloKey}' must be in [0, {PreferenceListPlacement.MaxWeight}]");
            }

            if (!SiloIndex.TryAdd(silo.SiloKey, SiloIndex.Count))
            {
                throw new ArgumentException($"silo '{silo.SiloKey}' appears twice", nameof(silos));
            }
        }

        int siloCount = Silos.Length;
        Eligible = Silos.Select(s => s.Weight > 0).ToArray();
        EligibleCount = Eligible.Count(e => e);
        SiloRegion = Silos.Select(s => RegionId(s.Region)).ToArray();
        SiloZone = Silos.Select(s => ZoneId(s.Region, s.Zone)).ToArray();
        SiloHash = Silos.Select(s => System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(s.SiloKey))).ToArray();
        Load = new int[siloCount];
        ShardsOn = Enumerable.Range(0, siloCount).Select(_ => new HashSet<int>()).ToArray();

        Map = map;
        int shardCount = map.Shards.Count;
        Replicas = new ReplicaInfo[shardCount][];
        ReplicaSilo = new int[shardCount][];
        ReplicaRegion = new int[shardCount][];
        ReplicaZone = new int[shardCount][];
        Leader = new int[shardCount];
        ShardPoint = new ulong[shardCount];
        ShardIndex = new Dictionary<int, int>(shardCount);
        for (int i = 0; i < shardCount; i++)
        {
            var shard = map.Shards[i];
            ShardIndex.Add(shard.ShardId, i);
            ShardPoint[i] = PreferenceListPlacement.ShardPoint(shard.ShardId);
            var replicas = shard.Replicas.ToArray();
            Replicas[i] = replicas;
            ReplicaSilo[i] = new int[replicas.Length];
            ReplicaRegion[i] = new int[replicas.Length];
            ReplicaZone[i] = new int[replicas.Length];
            for (int j = 0; j < replicas.Length; j++)
            {
                int silo = SiloIndex.GetValueOrDefault(replicas[j].SiloKey, -1);
                ReplicaSilo[i][j] = silo;
                if (silo >= 0)
                {
                    // The silo's current region and zone, not the ones recorded when the replica was placed.
                    ReplicaRegion[i][j] = SiloRegion[silo];
                    ReplicaZone[i][j] = SiloZone[silo];
                    Load[silo]++;
                    ShardsOn[silo].Add(i);
                }
                else
                {
                    ReplicaRegion[i][j] = RegionId(replicas[j].Region ?? string.Empty);
                    ReplicaZone[i][j] = ZoneId(replicas[j].Region ?? string.Empty, replicas[j].Zone ?? string.Empty);
                }
            }
        }
    }

    public ShardMap Map { get; }

    /// <summary>The silos offered, by name (ordinal).</summary>
    public SiloInfo[] Silos { get; }

    public Dictionary<string, int> SiloIndex { get; }

    /// <summary>Weight above 0: may hold replicas and leaders. The others are draining.</summary>
    public bool[] Eligible { get; }

    public int EligibleCount { get; }

    public int[] SiloRegion { get; }

    public int[] SiloZone { get; }

    /// <summary>A hash of each silo's name, mixed with a shard's point for stable tie-breaks (rendezvous hashing).</summary>
    public ulong[] SiloHash { get; }

    /// <summary>Replicas (voters and learners) per silo.</summary>
    public int[] Load { get; }

    /// <summary>The shards (indices into <see cref="Map"/>.Shards) with a replica on each silo.</summary>
    public HashSet<int>[] ShardsOn { get; }

    public Dictionary<int, int> ShardIndex { get; }

    public ulong[] ShardPoint { get; }

    public ReplicaInfo[][] Replicas { get; }

    /// <summary>Index into <see cref="Silos"/> of each replica's silo, or −1 when its silo was not offered (given up).</summary>
    public int[][] ReplicaSilo { get; }

    public int[][] ReplicaRegion { get; }

    public int[][] ReplicaZone { get; }

    /// <summary>Index into the shard's replicas of its preferred leader (0 until a leader change is planned).</summary>
    public int[] Leader { get; }

    public int RegionCount => _regionIds.Count;

    public int ZoneCount => _zoneIds.Count;

    public int ShardCount => Replicas.Length;

    public bool IsVoter(int shard, int replica) => Replicas[shard][replica].Role == ReplicaRole.Voter;

    /// <summary>A stable pseudo-random rank of (shard, silo): higher wins ties. Independent of every other silo.</summary>
    public ulong TieBreak(int shard, int silo)
    {
        // SplitMix64's finalizer: spreads the XOR of two good hashes over all bits.
        ulong z = ShardPoint[shard] ^ SiloHash[silo];
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public bool Hosts(int shard, int silo) => ShardsOn[silo].Contains(shard);

    /// <summary>
    /// Change of the shard's diversity penalties if replica <paramref name="replica"/> moved to <paramref name="silo"/>:
    /// Σ over regions (then zones) of the square of the shard's replica count there. Lower is better: the penalty is
    /// smallest when the replicas are spread as evenly as possible, so taking a region (zone) the shard lacks is the
    /// largest gain, and with more replicas than regions it prefers 2+2+1 over 3+1+1.
    /// </summary>
    public (int Region, int Zone) MoveDelta(int shard, int replica, int silo)
    {
        int fromRegion = ReplicaRegion[shard][replica], toRegion = SiloRegion[silo];
        int fromZone = ReplicaZone[shard][replica], toZone = SiloZone[silo];
        int inFromRegion = 0, inToRegion = 0, inFromZone = 0, inToZone = 0;
        var regions = ReplicaRegion[shard];
        var zones = ReplicaZone[shard];
        for (int k = 0; k < regions.Length; k++)
        {
            inFromRegion += regions[k] == fromRegion ? 1 : 0;
            inToRegion += regions[k] == toRegion ? 1 : 0;
            inFromZone += zones[k] == fromZone ? 1 : 0;
            inToZone += zones[k] == toZone ? 1 : 0;
        }

        // (a − 1)² + (b + 1)² − a² − b² = 2(b − a) + 2 for a replica leaving a group of a for a group of b.
        return (
            fromRegion == toRegion ? 0 : (2 * (inToRegion - inFromRegion)) + 2,
            fromZone == toZone ? 0 : (2 * (inToZone - inFromZone)) + 2);
    }

    /// <summary>Change of the shard's diversity penalties if one more replica were placed on <paramref name="silo"/>.</summary>
    public (int Region, int Zone) AddDelta(int shard, int silo)
    {
        int region = SiloRegion[silo], zone = SiloZone[silo];
        int inRegion = 0, inZone = 0;
        for (int k = 0; k < ReplicaRegion[shard].Length; k++)
        {
            inRegion += ReplicaRegion[shard][k] == region ? 1 : 0;
            inZone += ReplicaZone[shard][k] == zone ? 1 : 0;
        }

        return ((2 * inRegion) + 1, (2 * inZone) + 1);
    }

    public void Move(int shard, int replica, int silo)
    {
        int from = ReplicaSilo[shard][replica];
        if (from >= 0)
        {
            Load[from]--;
            ShardsOn[from].Remove(shard);
        }

        ReplicaSilo[shard][replica] = silo;
        ReplicaRegion[shard][replica] = SiloRegion[silo];
        ReplicaZone[shard][replica] = SiloZone[silo];
        Load[silo]++;
        ShardsOn[silo].Add(shard);
    }

    private int RegionId(string region)
    {
        if (!_regionIds.TryGetValue(region, out int id))
        {
            id = _regionIds.Count;
            _regionIds.Add(region, id);
        }

        return id;
    }

    private int ZoneId(string region, string zone)
    {
        var key = (RegionId(region), zone);
        if (!_zoneIds.TryGetValue(key, out int id))
        {
            id = _zoneIds.Count;
            _zoneIds.Add(key, id);
        }

        return id;
    }
}
