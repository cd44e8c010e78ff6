namespace Storage;

/// <summary>
/// The versioned map from keys to shards to replicas, owned by the directory. Every silo caches one copy for its
/// routers, placement and keeper; the silo's replica keeper re-reads it from the directory on each pass (about once
/// a second), as does a cluster status request, and a cached copy is only ever replaced by a higher
/// <see cref="Version"/>. Replicas do not report map versions, so a router may route by a map up to one pass old.
/// <see cref="Shards"/> is sorted by <see cref="ShardInfo.RangeStart"/> and its ranges cover the whole
/// 64-bit hash space without gaps or overlaps (<see cref="Validate"/> checks it).
/// <see cref="NextReplicaId"/> is the next unused replica id: ids come from this one monotone counter so
/// that a replica id is never reused, even after the replica with the highest id was removed (a reused id
/// would let a new, empty replica inherit the Raft votes and log position of a dead one).
/// </summary>
[GenerateSerializer, Alias("Storage.ShardMap")]
public sealed record ShardMap(
    [property: Id(0)] long Version,
    [property: Id(1)] IReadOnlyList<ShardInfo> Shards,
    [property: Id(2)] long NextReplicaId)
{
    /// <summary>The shard that owns <paramref name="key"/>.</summary>
    public ShardInfo ShardFor(string key) => ShardFor(KeyHash.Of(key));

    /// <summary>The shard whose range contains <paramref name="hash"/> (binary search over range starts).</summary>
    public ShardInfo ShardFor(ulong hash)
    {
        // Find the last shard whose RangeStart <= hash.
        int lo = 0, hi = Shards.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (Shards[mid].RangeStart <= hash)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // A well-formed map always finds one; a gap means a corrupt map, which must not route silently.
        if (found < 0 || !Shards[found].Contains(hash))
        {
            throw new InvalidOperationException($"shard map version {Version} does not cover hash {hash:x16}");
        }

        return Shards[found];
    }

    /// <summary>The shard with id <paramref name="shardId"/>, or null.</summary>
    public ShardInfo? FindShard(int shardId)
    {
        foreach (var shard in Shards)
        {
            if (shard.ShardId == shardId)
            {
                return shard;
            }
        }

        return null;
    }

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> naming the first problem unless: the version is positive;
    /// shards are sorted, contiguous and cover [0, 2^64); shard ids are unique and non-negative; every shard
    /// has at least one replica, on distinct silos; replica ids are unique, positive and below
    /// <see cref="NextReplicaId"/>.
    /// </summary>
    public void Validate()
    {
        if (Version < 1)
        {
            throw Invalid($"version {Version} is not positive");
        }

        if (Shards is null || Shards.Count == 0)
        {
            throw Invalid("no shards");
        }

        var shardIds = new HashSet<int>();
        var replicaIds = new HashSet<long>();
        ulong expectedStart = 0;
        for (int i = 0; i < Shards.Count; i++)
        {
            var shard = Shards[i];
            if (shard.ShardId < 0 || !shardIds.Add(shard.ShardId))
            {
                throw Invalid($"shard id {shard.ShardId} is negative or duplicated");
            }

            if (shard.RangeStart != expectedStart || shard.RangeEnd < shard.RangeStart)
            {
                throw Invalid($"shard {shard.ShardId} range [{shard.RangeStart:x16}, {shard.RangeEnd:x16}] does not start at {expectedStart:x16}");
            }

            bool last = i == Shards.Count - 1;
            if (last != (shard.RangeEnd == ulong.MaxValue))
            {
                throw Invalid($"shard {shard.ShardId} range end {shard.RangeEnd:x16} leaves the hash space uncovered or ends it early");
            }

            expectedStart = shard.RangeEnd + 1; // wraps to 0 only after the last shard, which ends the loop

            if (shard.Replicas is null || shard.Replicas.Count == 0)
            {
                throw Invalid($"shard {shard.ShardId} has no replicas");
            }

            var silos = new HashSet<string>(StringComparer.Ordinal);
            foreach (var replica in shard.Replicas)
            {
                if (replica.ReplicaId < 1 || replica.ReplicaId >= NextReplicaId || !replicaIds.Add(replica.ReplicaId))
                {
                    throw Invalid($"replica id {replica.ReplicaId} of shard {shard.ShardId} is duplicated or outside [1, {NextReplicaId})");
                }

                if (!silos.Add(replica.SiloKey))
                {
                    throw Invalid($"shard {shard.ShardId} has two replicas on silo '{replica.SiloKey}'");
                }
            }
        }

        InvalidOperationException Invalid(string problem) => new($"invalid shard map (version {Version}): {problem}");
    }

    public bool Equals(ShardMap? other) =>
        other is not null
        && Version == other.Version
        && NextReplicaId == other.NextReplicaId
        && Shards.SequenceEqual(other.Shards);

    public override int GetHashCode() => HashCode.Combine(Version, NextReplicaId, Shards.Count);
}
