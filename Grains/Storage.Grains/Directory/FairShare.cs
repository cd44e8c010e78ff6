namespace Storage.Directory;

/// <summary>
/// Each silo's fair share of replicas and of preferred leaders: the weighted share (total × weight / total weight),
/// bounded by what the diversity rules force or allow. Example: three regions holding 2 + 2 + 1 silos and three
/// replicas per shard: every shard keeps one replica in each region, so the lone silo's share is one replica per shard
/// however small its weight, and the other regions' silos split their region's replicas between them. Shares are worked
/// out top-down (regions, zones in a region, silos in a zone), each level a weighted water-fill between the least and
/// the most that level can hold when every shard is spread as evenly as the silos allow.
/// </summary>
internal static class FairShare
{
    /// <summary>Within this of an integer, a share counts as that integer (the water-fill works in doubles).</summary>
    public const double Tolerance = 1e-6;

    public static int Floor(double share) => (int)Math.Floor(share + Tolerance);

    public static int Ceiling(double share) => (int)Math.Ceiling(share - Tolerance);

    /// <summary>The replicas each silo of <paramref name="model"/> should hold (0 for one that is draining).</summary>
    public static double[] Replicas(PlacementModel model)
    {
        var shares = new double[model.Silos.Length];
        var eligible = Enumerable.Range(0, model.Silos.Length).Where(s => model.Eligible[s]).ToArray();
        if (eligible.Length == 0)
        {
            return shares;
        }

        // The tree: regions → zones → silos, each level ordered by first appearance in the (sorted) silo list.
        var regions = eligible.GroupBy(s => model.SiloRegion[s])
            .Select(r => r.GroupBy(s => model.SiloZone[s]).Select(z => z.ToArray()).ToArray())
            .ToArray();

        // A shard keeps as many replicas on offered silos as there are eligible silos, at most.
        var shardsByReplicas = Enumerable.Range(0, model.ShardCount)
            .GroupBy(i => Math.Min(model.Replicas[i].Length, eligible.Length))
            .Select(g => (Replicas: g.Key, Shards: g.Count()))
            .ToArray();
        int total = shardsByReplicas.Sum(g => g.Replicas * g.Shards);

        // Bounds per region, zone and silo, summed over shards (shards with equal replica counts have equal bounds).
        var regionCaps = regions.Select(r => r.Sum(z => z.Length)).ToArray();
        var regionLow = new double[regions.Length];
        var regionHigh = new double[regions.Length];
        var zoneLow = regions.Select(r => new double[r.Length]).ToArray();
        var zoneHigh = regions.Select(r => new double[r.Length]).ToArray();
        var siloLow = new double[model.Silos.Length];
        var siloHigh = new double[model.Silos.Length];
        foreach (var (replicas, shards) in shardsByReplicas)
        {
            var (rLow, rHigh) = Spread(replicas, regionCaps);
            for (int r = 0; r < regions.Length; r++)
            {
                regionLow[r] += rLow[r] * (double)shards;
                regionHigh[r] += rHigh[r] * (double)shards;
                var zoneCaps = regions[r].Select(z => z.Length).ToArray();
                var zLow = Spread(rLow[r], zoneCaps).Low;
                var zHigh = Spread(rHigh[r], zoneCaps).High;
                for (int z = 0; z < zoneCaps.Length; z++)
                {
                    zoneLow[r][z] += zLow[z] * (double)shards;
                    zoneHigh[r][z] += zHigh[z] * (double)shards;

                    // At most one replica of a shard per silo: a silo must hold the shard only when the zone needs all
                    // of its silos, and can hold it whenever the zone may hold any.
                    foreach (int silo in regions[r][z])
                    {
                        siloLow[silo] += zLow[z] == zoneCaps[z] ? shards : 0;
                        siloHigh[silo] += zHigh[z] >= 1 ? shards : 0;
                    }
                }
            }
        }

        double Weight(int silo) => model.Silos[silo].Weight;
        var regionShares = Distribute(total, regions.Select(r => r.Sum(z => z.Sum(Weight))).ToArray(), regionLow, regionHigh);
        for (int r = 0; r < regions.Length; r++)
        {
            var zoneShares = Distribute(regionShares[r], regions[r].Select(z => z.Sum(Weight)).ToArray(), zoneLow[r], zoneHigh[r]);
            for (int z = 0; z < regions[r].Length; z++)
            {
                var silos = regions[r][z];
                var siloShares = Distribute(
                    zoneShares[z],
                    silos.Select(Weight).ToArray(),
                    silos.Select(s => siloLow[s]).ToArray(),
                    silos.Select(s => siloHigh[s]).ToArray());
                for (int k = 0; k < silos.Length; k++)
                {
                    shares[silos[k]] = siloShares[k];
                }
            }
        }

        return shares;
    }

    /// <summary>
    /// The preferred leaders each silo should hold: the shards with a voter on an eligible silo, shared by weight, but
    /// no more than the shards a silo has a voter of, and at least those whose only eligible voter it has.
    /// </summary>
    public static double[] Leaders(PlacementModel model)
    {
        var low = new double[model.Silos.Length];
        var high = new double[model.Silos.Length];
        int total = 0;
        for (int i = 0; i < model.ShardCount; i++)
        {
            int voters = 0, only = -1;
            for (int j = 0; j < model.Replicas[i].Length; j++)
            {
                int silo = model.ReplicaSilo[i][j];
                if (silo >= 0 && model.Eligible[silo] && model.IsVoter(i, j))
                {
                    voters++;
                    only = silo;
                    high[silo]++;
                }
            }

            total += voters > 0 ? 1 : 0;
            if (voters == 1)
            {
                low[only]++;
            }
        }

        var eligible = Enumerable.Range(0, model.Silos.Length).Where(s => model.Eligible[s]).ToArray();
        var shares = new double[model.Silos.Length];
        if (eligible.Length > 0)
        {
            var distributed = Distribute(
                total,
                eligible.Select(s => (double)model.Silos[s].Weight).ToArray(),
                eligible.Select(s => low[s]).ToArray(),
                eligible.Select(s => high[s]).ToArray());
            for (int k = 0; k < eligible.Length; k++)
            {
                shares[eligible[k]] = distributed[k];
            }
        }

        return shares;
    }

    /// <summary>
    /// The most even way to spread <paramref name="count"/> items over groups holding at most <paramref name="caps"/>
    /// each (minimum Σ count²): every group gets min(cap, t) or min(cap, t + 1). Low is what each group gets in every
    /// such spread, High the most it can get in one.
    /// </summary>
    public static (int[] Low, int[] High) Spread(int count, int[] caps)
    {
        int Filled(int level) => caps.Sum(c => Math.Min(c, level));
        int max = caps.Length == 0 ? 0 : caps.Max();
        int t = 0;
        while (t < max && Filled(t + 1) <= count)
        {
            t++;
        }

        bool extra = count > Filled(t);
        return (
            caps.Select(c => Math.Min(c, t)).ToArray(),
            caps.Select(c => Math.Min(c, extra ? t + 1 : t)).ToArray());
    }

    /// <summary>
    /// Weighted water-fill: share_k = clamp(λ × weight_k, low_k, high_k) with λ chosen so the shares sum to
    /// <paramref name="total"/> (Σ low ≤ total ≤ Σ high holds for every call above). Weights are positive.
    /// </summary>
    public static double[] Distribute(double total, double[] weights, double[] low, double[] high)
    {
        double Sum(double lambda)
        {
            double sum = 0;
            for (int k = 0; k < weights.Length; k++)
            {
                sum += Math.Clamp(lambda * weights[k], low[k], high[k]);
            }

            return sum;
        }

        double lo = 0, hi = 1;
        for (int k = 0; k < weights.Length; k++)
        {
            hi = Math.Max(hi, (high[k] / weights[k]) + 1);
        }

        // Bisection: the sum is monotone in λ; 200 halvings reach the limit of double precision.
        for (int iteration = 0; iteration < 200 && lo < hi; iteration++)
        {
            double mid = lo + ((hi - lo) / 2);
            if (mid <= lo || mid >= hi)
            {
                break;
            }

            if (Sum(mid) < total)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return weights.Select((w, k) => Math.Clamp(hi * w, low[k], high[k])).ToArray();
    }
}
