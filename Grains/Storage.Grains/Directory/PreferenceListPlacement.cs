using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Storage.Directory;

/// <summary>
/// Shards → silos. Each silo owns <c>virtualNodesPerWeight × Weight</c> points on a 64-bit ring (XxHash64 of
/// the silo key and the vnode number); a shard's preference list is found Dynamo-style by walking the ring
/// clockwise from the shard's own point and taking silos in order of first appearance — distinct regions first,
/// then distinct zones, then any distinct silo. Because a silo's points depend only on its own key, a joining
/// or leaving silo changes only the walks that meet its points: about 1/N of the replicas move.
/// Deterministic: equal inputs (in any order) give equal placements on every silo and across restarts.
/// </summary>
public sealed class PreferenceListPlacement
{
    public const int DefaultVirtualNodesPerWeight = 64;

    /// <summary>Weights above this are rejected: they only add ring points (memory, build time) without improving balance.</summary>
    public const int MaxWeight = 1000;

    /// <summary>
    /// First pass of leader choice: a silo takes the lead of a shard only while it leads fewer than
    /// ⌈LeaderLoadFactor × its weighted fair share⌉ shards (bounded-load consistent hashing), so leaders mostly
    /// stay on the ring's first choice and a membership change moves few of them. A second pass then evens out
    /// what the greedy order left uneven (see <see cref="Place"/>).
    /// </summary>
    public const double LeaderLoadFactor = 1.0;

    // Seeds are part of placement: changing one re-places every replica.
    private const long VirtualNodeSeed = 0x5649_524E_4F44_45; // "VIRNODE"
    private const long ShardSeed = 0x5348_4152_44;            // "SHARD"

    private readonly SiloInfo[] _silos;     // every silo, by key (ordinal)
    private readonly SiloInfo[] _eligible;  // weight > 0, by key
    private readonly ulong[] _points;       // ring points, ascending
    private readonly int[] _owners;         // _owners[i] = index into _eligible of the silo owning _points[i]

    public PreferenceListPlacement(IEnumerable<SiloInfo> silos, int virtualNodesPerWeight = DefaultVirtualNodesPerWeight)
    {
        ArgumentNullException.ThrowIfNull(silos);
        ArgumentOutOfRangeException.ThrowIfLessThan(virtualNodesPerWeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(virtualNodesPerWeight, 4096);

        _silos = silos.OrderBy(s => s?.SiloKey, StringComparer.Ordinal).ToArray();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var silo in _silos)
        {
            if (silo is null || string.IsNullOrEmpty(silo.SiloKey) || silo.Region is null || silo.Zone is null)
            {
                throw new ArgumentException("every silo needs a non-empty key and a region and zone", nameof(silos));
            }

            if (!keys.Add(silo.SiloKey))
            {
                throw new ArgumentException($"silo key '{silo.SiloKey}' appears twice", nameof(silos));
            }

            if (silo.Weight < 0 || silo.Weight > MaxWeight)
            {
                throw new ArgumentOutOfRangeException(nameof(silos), silo.Weight, $"weight of silo '{silo.SiloKey}' must be in [0, {MaxWeight}]");
            }
        }

        _eligible = _silos.Where(s => s.Weight > 0).ToArray();
        VirtualNodesPerWeight = virtualNodesPerWeight;

        var nodes = new List<(ulong Point, int Owner, int Vnode)>();
        for (int owner = 0; owner < _eligible.Length; owner++)
        {
            int count = _eligible[owner].Weight * virtualNodesPerWeight;
            for (int v = 0; v < count; v++)
            {
                nodes.Add((VirtualNodePoint(_eligible[owner].SiloKey, v), owner, v));
            }
        }

        // Ties between points (vanishingly rare) break on silo key order, then vnode number: still deterministic.
        nodes.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : a.Owner != b.Owner ? a.Owner.CompareTo(b.Owner) : a.Vnode.CompareTo(b.Vnode));
        _points = nodes.Select(n => n.Point).ToArray();
        _owners = nodes.Select(n => n.Owner).ToArray();
    }

    /// <summary>Every silo given, ordered by key.</summary>
    public IReadOnlyList<SiloInfo> Silos => _silos;

    /// <summary>The silos that can receive replicas (weight above 0).</summary>
    public int EligibleSiloCount => _eligible.Length;

    public int VirtualNodesPerWeight { get; }

    /// <summary>Where a shard's walk starts: a hash of its id, so a shard keeps its place when others are split off.</summary>
    public static ulong ShardPoint(int shardId)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, shardId);
        return XxHash64.HashToUInt64(bytes, ShardSeed);
    }

    /// <summary>
    /// The ring position of vnode <paramref name="vnode"/> of a silo. The vnode number comes first and has a
    /// fixed width, so (vnode, key) → bytes is injective even for keys containing any character.
    /// Raising a silo's weight adds points and keeps the old ones, so only replicas moving to it move.
    /// </summary>
    public static ulong VirtualNodePoint(string siloKey, int vnode)
    {
        ArgumentNullException.ThrowIfNull(siloKey);
        var bytes = new byte[4 + Encoding.UTF8.GetByteCount(siloKey)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, vnode);
        Encoding.UTF8.GetBytes(siloKey, bytes.AsSpan(4));
        return XxHash64.HashToUInt64(bytes, VirtualNodeSeed);
    }

    /// <summary>
    /// The <paramref name="replicationFactor"/> silos for a shard, most preferred first: distinct regions
    /// first, then distinct zones, then distinct silos, each in ring order. With fewer eligible silos than the
    /// replication factor every eligible silo is returned (never two replicas on one silo).
    /// </summary>
    public IReadOnlyList<SiloInfo> PreferenceList(int shardId, int replicationFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        var walk = Walk(ShardPoint(shardId));
        int want = Math.Min(replicationFactor, walk.Count);
        var chosen = new List<SiloInfo>(want);
        var taken = new bool[walk.Count];
        var regions = new HashSet<string>(StringComparer.Ordinal);
        var zones = new HashSet<(string, string)>();

        // Pass 0: a new region; pass 1: a new zone; pass 2: any silo not yet chosen.
        for (int pass = 0; pass < 3 && chosen.Count < want; pass++)
        {
            for (int i = 0; i < walk.Count && chosen.Count < want; i++)
            {
                var silo = walk[i];
                bool fits = pass switch
                {
                    0 => !regions.Contains(silo.Region),
                    1 => !zones.Contains((silo.Region, silo.Zone)),
                    _ => true,
                };
                if (!taken[i] && fits)
                {
                    taken[i] = true;
                    chosen.Add(silo);
                    regions.Add(silo.Region);
                    zones.Add((silo.Region, silo.Zone));
                }
            }
        }

        return chosen;
    }

    /// <summary>
    /// Preference lists for many shards with leaders spread: each list is reordered so that element 0 is the
    /// preferred leader. Pass 1 (bounded load): the first silo in preference order that leads fewer than its
    /// capped share (<see cref="LeaderLoadFactor"/>), else the one with the fewest leaders per weight.
    /// Pass 2 (local improvement): while moving some shard's lead to another of its replicas lowers
    /// Σ leaders² / weight over all silos, move it — this fixes what the greedy order could not see (a silo whose
    /// shards were all claimed before its turn). Both passes visit shards in ascending id order, so the result
    /// does not depend on the order of <paramref name="shardIds"/>. Only leadership moves here, never a replica.
    /// </summary>
    public IReadOnlyDictionary<int, IReadOnlyList<SiloInfo>> Place(IEnumerable<int> shardIds, int replicationFactor)
    {
        ArgumentNullException.ThrowIfNull(shardIds);
        var ids = shardIds.Distinct().Order().ToArray();
        var result = new Dictionary<int, IReadOnlyList<SiloInfo>>(ids.Length);
        if (_eligible.Length == 0)
        {
            throw new InvalidOperationException("no silo has a positive weight: nowhere to place replicas");
        }

        long totalWeight = _eligible.Sum(s => (long)s.Weight);
        var leaders = new Dictionary<string, int>(StringComparer.Ordinal);
        int Cap(SiloInfo s) => (int)Math.Ceiling(LeaderLoadFactor * ids.Length * s.Weight / totalWeight);
        int Leads(SiloInfo s) => leaders.GetValueOrDefault(s.SiloKey);

        // prefs[id] stays in ring preference order; leader[id] indexes into it.
        var prefs = new Dictionary<int, IReadOnlyList<SiloInfo>>(ids.Length);
        var leader = new Dictionary<int, int>(ids.Length);
        foreach (int id in ids)
        {
            var list = PreferenceList(id, replicationFactor);
            int pick = -1;
            for (int j = 0; j < list.Count && pick < 0; j++)
            {
                pick = Leads(list[j]) < Cap(list[j]) ? j : -1;
            }

            if (pick < 0)
            {
                // Everyone is at the cap: the lowest (leaders + 1) / weight, earliest in preference order on ties.
                pick = 0;
                for (int j = 1; j < list.Count; j++)
                {
                    if ((long)(Leads(list[j]) + 1) * list[pick].Weight < (long)(Leads(list[pick]) + 1) * list[j].Weight)
                    {
                        pick = j;
                    }
                }
            }

            leaders[list[pick].SiloKey] = Leads(list[pick]) + 1;
            prefs.Add(id, list);
            leader.Add(id, pick);
        }

        // Pass 2. Each move strictly lowers the potential Σ l²/w, so this terminates; the round cap is a backstop.
        for (int round = 0, moves = 1; moves > 0 && round < 1000; round++)
        {
            moves = 0;
            foreach (int id in ids)
            {
                var list = prefs[id];
                var current = list[leader[id]];
                int la = Leads(current);
                for (int j = 0; j < list.Count; j++)
                {
                    var candidate = list[j];
                    int lb = Leads(candidate);
                    // Δ(Σ l²/w) × wa × wb for moving one lead from current (a) to candidate (b).
                    long delta = ((1 - (2L * la)) * candidate.Weight) + (((2L * lb) + 1) * current.Weight);
                    if (j != leader[id] && delta < 0)
                    {
                        leaders[current.SiloKey] = la - 1;
                        leaders[candidate.SiloKey] = lb + 1;
                        leader[id] = j;
                        moves++;
                        break;
                    }
                }
            }
        }

        // Preferred leader first, then the others in preference order.
        foreach (int id in ids)
        {
            var list = prefs[id];
            int l = leader[id];
            result.Add(id, list.Take(l).Prepend(list[l]).Concat(list.Skip(l + 1)).ToArray());
        }

        return result;
    }

    // Distinct eligible silos in order of their first point at or after `start`, wrapping around.
    private List<SiloInfo> Walk(ulong start)
    {
        var order = new List<SiloInfo>(_eligible.Length);
        if (_points.Length == 0)
        {
            return order;
        }

        var seen = new bool[_eligible.Length];
        int first = LowerBound(start);
        for (int step = 0; step < _points.Length && order.Count < _eligible.Length; step++)
        {
            int owner = _owners[(first + step) % _points.Length];
            if (!seen[owner])
            {
                seen[owner] = true;
                order.Add(_eligible[owner]);
            }
        }

        return order;
    }

    // First point >= value (or 0, wrapping, when value is past the last point).
    private int LowerBound(ulong value)
    {
        int lo = 0, hi = _points.Length;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (_points[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo == _points.Length ? 0 : lo;
    }
}
