using System.Globalization;

namespace Storage;

/// <summary>
/// The identity of a replica grain: "{shard}/{replica}" (DESIGN §4). Replica ids are never reused. The one
/// formatter and parser of replica grain keys: <see cref="ShardInfo.ReplicaKey(long)"/> uses it too.
/// </summary>
public readonly record struct ReplicaKey(int Shard, long Replica)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Shard}/{Replica}");

    public static ReplicaKey Parse(string key)
    {
        var slash = key.IndexOf('/');
        if (slash <= 0
            || !int.TryParse(key.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var shard)
            || !long.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var replica)
            || replica <= 0)
        {
            throw new FormatException($"'{key}' is not a replica key of the form '{{shard}}/{{replica}}'");
        }

        return new ReplicaKey(shard, replica);
    }
}
