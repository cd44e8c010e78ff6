namespace Storage.Shards;

/// <summary>The replica is not the leader; <see cref="Leader"/> is the leader it knows (0 if none). Nothing was applied.</summary>
[GenerateSerializer, Alias("Storage.NotLeaderException")]
public sealed class NotLeaderException : StorageException
{
    public NotLeaderException(string replica, long leader)
        : base(leader == 0 ? $"replica {replica} is not the leader and knows no leader" : $"replica {replica} is not the leader; try replica {leader}")
    {
        Leader = leader;
    }

    [Id(0)]
    public long Leader { get; }
}
