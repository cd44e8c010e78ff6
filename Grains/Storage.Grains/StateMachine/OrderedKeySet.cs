namespace Storage.StateMachine;

/// <summary>
/// The keys of a shard in ordinal order, with O(log n) seek for scans. A <c>SortedDictionary</c> cannot
/// start an enumeration in the middle, and <c>SortedSet.GetViewBetween</c> counts the whole view on creation,
/// so paging through a large prefix would be quadratic. This is a chunked sorted list (as in Python's
/// sortedcontainers): a list of sorted chunks of at most <see cref="MaxChunk"/> keys, located by binary search
/// on each chunk's last key, so inserts shift at most one chunk and seeks are two binary searches.
/// Not thread-safe (the owning grain is single-threaded).
/// </summary>
internal sealed class OrderedKeySet
{
    internal const int MaxChunk = 512;

    private static readonly StringComparer Comparer = StringComparer.Ordinal;

    private readonly List<List<string>> _chunks = new();

    public int Count { get; private set; }

    /// <summary>Adds <paramref name="key"/>; false if it was already present.</summary>
    public bool Add(string key)
    {
        if (_chunks.Count == 0)
        {
            _chunks.Add(new List<string>(16) { key });
            Count = 1;
            return true;
        }

        // The first chunk whose last key >= key; past the end, the key goes at the end of the last chunk.
        int ci = FindChunk(key);
        if (ci == _chunks.Count)
        {
            ci--;
        }

        var chunk = _chunks[ci];
        int pos = chunk.BinarySearch(key, Comparer);
        if (pos >= 0)
        {
            return false;
        }

        chunk.Insert(~pos, key);
        Count++;
        if (chunk.Count > MaxChunk)
        {
            int half = chunk.Count / 2;
            var right = chunk.GetRange(half, chunk.Count - half);
            chunk.RemoveRange(half, chunk.Count - half);
            _chunks.Insert(ci + 1, right);
        }

        return true;
    }

    /// <summary>Removes <paramref name="key"/>; false if it was not present.</summary>
    public bool Remove(string key)
    {
        int ci = FindChunk(key);
        if (ci == _chunks.Count)
        {
            return false;
        }

        var chunk = _chunks[ci];
        int pos = chunk.BinarySearch(key, Comparer);
        if (pos < 0)
        {
            return false;
        }

        chunk.RemoveAt(pos);
        Count--;
        if (chunk.Count == 0)
        {
            _chunks.RemoveAt(ci);
        }
        else if (chunk.Count < MaxChunk / 4 && ci + 1 < _chunks.Count && chunk.Count + _chunks[ci + 1].Count <= MaxChunk)
        {
            // Merge small neighbours so many deletes cannot leave thousands of tiny chunks behind.
            chunk.AddRange(_chunks[ci + 1]);
            _chunks.RemoveAt(ci + 1);
        }

        return true;
    }

    public bool Contains(string key)
    {
        int ci = FindChunk(key);
        return ci < _chunks.Count && _chunks[ci].BinarySearch(key, Comparer) >= 0;
    }

    /// <summary>Keys in ordinal order, starting at <paramref name="from"/> (inclusive or exclusive), or at the first key if null.</summary>
    public IEnumerable<string> EnumerateFrom(string? from, bool inclusive)
    {
        int ci = 0, pos = 0;
        if (from is not null)
        {
            ci = FindChunk(from);
            if (ci < _chunks.Count)
            {
                var chunk = _chunks[ci];
                pos = chunk.BinarySearch(from, Comparer);
                pos = pos >= 0 ? (inclusive ? pos : pos + 1) : ~pos;
            }
        }

        // Callers must not mutate while enumerating; the state machine materializes a page first.
        for (; ci < _chunks.Count; ci++, pos = 0)
        {
            var chunk = _chunks[ci];
            for (; pos < chunk.Count; pos++)
            {
                yield return chunk[pos];
            }
        }
    }

    /// <summary>Replaces the content with keys already in strictly ascending ordinal order (snapshot restore), in O(n).</summary>
    public void LoadSorted(IReadOnlyList<string> sortedKeys)
    {
        _chunks.Clear();
        for (int i = 0; i < sortedKeys.Count; i += MaxChunk / 2)
        {
            int n = Math.Min(MaxChunk / 2, sortedKeys.Count - i);
            var chunk = new List<string>(n);
            for (int j = 0; j < n; j++)
            {
                chunk.Add(sortedKeys[i + j]);
            }

            _chunks.Add(chunk);
        }

        Count = sortedKeys.Count;
    }

    // Index of the first chunk whose last key is >= key, or _chunks.Count if none.
    private int FindChunk(string key)
    {
        int lo = 0, hi = _chunks.Count;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            var chunk = _chunks[mid];
            if (Comparer.Compare(chunk[^1], key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
