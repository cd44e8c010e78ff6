namespace Storage.Raft.Tracker;

/// <summary>A bounded window of append messages in flight to one follower, by their last index.</summary>
internal sealed class Inflights
{
    private readonly Queue<long> _window = new();
    private readonly int _capacity;

    public Inflights(int capacity) => _capacity = capacity;

    public bool Full => _window.Count >= _capacity;

    public int Count => _window.Count;

    public void Add(long lastIndex) => _window.Enqueue(lastIndex);

    /// <summary>Frees every message whose last index is at or below <paramref name="index"/>.</summary>
    public void FreeLE(long index)
    {
        while (_window.Count > 0 && _window.Peek() <= index)
        {
            _window.Dequeue();
        }
    }

    /// <summary>Frees one slot so that a follower that answered a heartbeat gets another append.</summary>
    public void FreeFirstOne()
    {
        if (_window.Count > 0)
        {
            _window.Dequeue();
        }
    }

    public void Reset() => _window.Clear();
}
