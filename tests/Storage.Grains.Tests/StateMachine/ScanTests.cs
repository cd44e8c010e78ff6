using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class ScanTests
{
    private readonly KvStateMachine _sm = new();

    public ScanTests()
    {
        // Includes keys whose ordinal order differs from culture order ("B" < "a"; "a/" < "a0").
        string[] keys = ["a", "a/1", "a/2", "a/10", "a0", "ab", "B", "b", "b/x", "é", "😀"];
        long index = 1;
        foreach (string key in keys)
        {
            _sm.Apply(index, Put(ClientA, index, key, key.ToUpperInvariant()));
            index++;
        }
    }

    private static string[] Keys(ScanPage page) => page.Items.Select(i => i.Key).ToArray();

    [Fact]
    public void Full_scan_is_in_ordinal_order()
    {
        var page = _sm.Scan(null, null, 100);
        string[] expected = ["B", "a", "a/1", "a/10", "a/2", "a0", "ab", "b", "b/x", "é", "😀"];
        Assert.Equal(expected, Keys(page));
        Assert.Null(page.ContinueAfter);
    }

    [Fact]
    public void Prefix_scan_returns_exactly_the_keys_with_the_prefix()
    {
        Assert.Equal(new[] { "a/1", "a/10", "a/2" }, Keys(_sm.Scan("a/", null, 100)));
        Assert.Equal(new[] { "a", "a/1", "a/10", "a/2", "a0", "ab" }, Keys(_sm.Scan("a", null, 100)));
        Assert.Empty(_sm.Scan("zz", null, 100).Items);
        Assert.Empty(_sm.Scan("a/3", null, 100).Items);
        Assert.Equal(new[] { "B", "a", "a/1", "a/10", "a/2", "a0", "ab", "b", "b/x", "é", "😀" }, Keys(_sm.Scan("", null, 100)));
    }

    [Fact]
    public void Items_carry_values_and_versions()
    {
        var item = Assert.Single(_sm.Scan("ab", null, 10).Items);
        Assert.Equal(Bytes("AB"), item.Value);
        Assert.Equal(6, item.Version);
    }

    [Fact]
    public void Paging_visits_every_key_once_and_the_last_page_has_no_cursor()
    {
        var seen = new List<string>();
        string? cursor = null;
        int pages = 0;
        do
        {
            var page = _sm.Scan("a", cursor, 2);
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(Keys(page));
            cursor = page.ContinueAfter;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(new[] { "a", "a/1", "a/10", "a/2", "a0", "ab" }, seen);
        Assert.Equal(3, pages); // exactly full pages: no empty trailing page
    }

    [Fact]
    public void Cursor_is_exclusive_and_need_not_be_a_stored_key()
    {
        Assert.Equal(new[] { "a/2", "a0", "ab" }, Keys(_sm.Scan("a", "a/10", 100)));
        Assert.Equal(new[] { "a/2", "a0", "ab" }, Keys(_sm.Scan("a", "a/15", 100)));
    }

    [Fact]
    public void Cursor_before_the_prefix_starts_at_the_prefix_and_after_it_gives_nothing()
    {
        Assert.Equal(new[] { "b", "b/x" }, Keys(_sm.Scan("b", "B", 100)));
        Assert.Empty(_sm.Scan("a", "b", 100).Items);
    }

    [Fact]
    public void Deleted_keys_disappear_from_scans()
    {
        _sm.Apply(100, Delete(ClientA, 100, "a/10"));
        Assert.Equal(new[] { "a/1", "a/2" }, Keys(_sm.Scan("a/", null, 100)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Non_positive_limit_is_an_invalid_request(int limit)
    {
        Assert.Throws<InvalidRequestException>(() => _sm.Scan(null, null, limit));
    }

    [Fact]
    public void Large_prefix_scan_pages_through_many_chunks()
    {
        var sm = new KvStateMachine();
        for (int i = 0; i < 5000; i++)
        {
            // Keys on both sides of the scanned prefix, interleaved in insertion order.
            sm.Apply((3 * i) + 1, Put(ClientA, i + 1, $"user/{i:D5}", "v"));
            sm.Apply((3 * i) + 2, Put(ClientB, i + 1, $"aaa/{i:D5}", "v"));
            sm.Apply((3 * i) + 3, Put(Guid.Parse("cccccccc-0000-0000-0000-000000000003"), i + 1, $"zzz/{i:D5}", "v"));
        }

        int count = 0;
        string? cursor = null;
        string? previous = null;
        do
        {
            var page = sm.Scan("user/", cursor, 333);
            foreach (var item in page.Items)
            {
                Assert.StartsWith("user/", item.Key, StringComparison.Ordinal);
                Assert.True(previous is null || string.CompareOrdinal(previous, item.Key) < 0);
                previous = item.Key;
                count++;
            }

            cursor = page.ContinueAfter;
        }
        while (cursor is not null);

        Assert.Equal(5000, count);
        Assert.Equal(15_000, sm.Count);
    }
}
