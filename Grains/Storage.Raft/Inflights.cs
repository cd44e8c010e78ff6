namespace Storage.Raft;

/// <summary>A bounded window of append messages in flight to one follower, by their last index.</summary>
internal sealed class Inflights
{
    private readonly Queue<long> window = new();
    private readonly int capacity;

    public Inflights(int capacity) => this.capacity = capacity;

    public bool Full => window.Count >= capacity;

    public int Count => window.Count;

    public void Add(long lastIndex) => window.Enqueue(lastIndex);

    /// <summary>Frees every message whose last index is at or below <paramref name="index"/>.</summary>
    public void FreeLE(long index)
    {
        while (window.Count > 0 && window.Peek() <= index)
        {
            window.Dequeue();
        }
    }

    /// <summary>Frees one slot so that a follower that answered a heartbeat gets another append.</summary>
    public void FreeFirstOne()
    {
        if (window.Count > 0)
        {
            window.Dequeue();
        }
    }

    public void Reset() => window.Clear();
}
