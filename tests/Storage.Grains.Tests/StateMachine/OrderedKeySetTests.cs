using Storage.StateMachine;

namespace Storage.Grains.Tests.StateMachine;

public class OrderedKeySetTests
{
    [Fact]
    public void Matches_a_sorted_set_under_random_inserts_and_deletes()
    {
        // Enough keys to split and merge many chunks (chunks hold up to 512).
        var rng = new Random(42);
        var set = new OrderedKeySet();
        var model = new SortedSet<string>(StringComparer.Ordinal);
        for (int step = 0; step < 40_000; step++)
        {
            string key = $"k{rng.Next(6000):x}";
            if (rng.Next(3) == 0)
            {
                Assert.Equal(model.Remove(key), set.Remove(key));
            }
            else
            {
                Assert.Equal(model.Add(key), set.Add(key));
            }

            if (step % 5000 == 0)
            {
                Assert.Equal(model, set.EnumerateFrom(null, inclusive: true));
            }
        }

        Assert.Equal(model.Count, set.Count);
        Assert.Equal(model, set.EnumerateFrom(null, inclusive: true));
        foreach (string probe in new[] { "", "k", "k7", "k7ff", "k800", "kfff", "l", model.Min!, model.Max! })
        {
            Assert.Equal(model.Where(k => string.CompareOrdinal(k, probe) >= 0), set.EnumerateFrom(probe, inclusive: true));
            Assert.Equal(model.Where(k => string.CompareOrdinal(k, probe) > 0), set.EnumerateFrom(probe, inclusive: false));
            Assert.Equal(model.Contains(probe), set.Contains(probe));
        }
    }

    [Fact]
    public void Deleting_everything_leaves_an_empty_usable_set()
    {
        var set = new OrderedKeySet();
        for (int i = 0; i < 3000; i++)
        {
            set.Add($"{i:D5}");
        }

        for (int i = 0; i < 3000; i++)
        {
            Assert.True(set.Remove($"{i:D5}"));
        }

        Assert.Equal(0, set.Count);
        Assert.Empty(set.EnumerateFrom(null, inclusive: true));
        Assert.False(set.Remove("x"));
        Assert.True(set.Add("x"));
        Assert.Equal(new[] { "x" }, set.EnumerateFrom(null, inclusive: true));
    }

    [Fact]
    public void Bulk_load_then_mutate()
    {
        var keys = Enumerable.Range(0, 2000).Select(i => $"{i * 2:D6}").ToArray();
        var set = new OrderedKeySet();
        set.LoadSorted(keys);
        Assert.Equal(keys, set.EnumerateFrom(null, inclusive: true));
        Assert.True(set.Add("000001"));
        Assert.False(set.Add("000002"));
        Assert.True(set.Remove("000004"));
        Assert.Equal(new[] { "000000", "000001", "000002", "000006" }, set.EnumerateFrom(null, inclusive: true).Take(4));
        Assert.Equal(2000, set.Count);
    }
}
