namespace Storage.Shards;

/// <summary>
/// What one silo's keeper remembers about moving one stand-in home: whether a move is waiting to be checked, how
/// many moves failed in a row, and when the next may start (exponential back-off, capped).
/// </summary>
internal sealed class ReplicaKeeperRelocation
{
    public ReplicaKeeperRelocation(string home) => Home = home;

    /// <summary>The silo the shard map assigns the replica.</summary>
    public string Home { get; }

    /// <summary>A move was asked for and has not been checked yet.</summary>
    public bool Awaiting { get; private set; }

    /// <summary>Moves in a row that did not land home.</summary>
    public int Failures { get; private set; }

    public DateTime NotBefore { get; private set; }

    /// <summary>When the move being awaited was asked for.</summary>
    public DateTime StartedAt { get; private set; }

    /// <summary>The home silo was not usable for placement and that was logged (once, until the replica is home).</summary>
    public bool DeferralLogged { get; set; }

    public bool MayStart(DateTime now) => !Awaiting && now >= NotBefore;

    public void Started(DateTime now)
    {
        Awaiting = true;
        StartedAt = now;
    }

    /// <summary>Records a move that did not land home; returns how long the replica now waits.</summary>
    public TimeSpan Failed(DateTime now, TimeSpan backoff, TimeSpan max)
    {
        Awaiting = false;
        Failures++;
        var wait = Backoff(Failures, backoff, max);
        NotBefore = now + wait;
        return wait;
    }

    /// <summary><paramref name="backoff"/> doubled for every failure after the first, never beyond <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan backoff, TimeSpan max)
    {
        var doublings = Math.Clamp(failures - 1, 0, 30);
        var ticks = Math.Min((double)backoff.Ticks * Math.Pow(2, doublings), max.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }
}
