using System.Text;
using Storage.Raft;

namespace Storage.Persistence.Tests;

/// <summary>Shorthands for building entries and writes.</summary>
internal static class Logs
{
    public static Entry E(long index, long term = 1, string? data = null, EntryType type = EntryType.Normal) =>
        new(term, index, type, Encoding.UTF8.GetBytes(data ?? $"i{index}t{term}"));

    public static Entry[] Run(long from, long to, long term = 1) =>
        Enumerable.Range(0, (int)(to - from + 1)).Select(i => E(from + i, term)).ToArray();

    public static ReplicaLogWrite W(string replica, long incarnation, IReadOnlyList<Entry>? entries = null, HardState? hardState = null, long compactThrough = 0) =>
        new(replica, incarnation, hardState, entries ?? Array.Empty<Entry>(), compactThrough);

    public static string Text(Entry entry) => Encoding.UTF8.GetString(entry.Data);

    /// <summary>"index:term:data" per entry: one string to compare whole logs with.</summary>
    public static string Describe(IEnumerable<Entry> entries) =>
        string.Join(" ", entries.Select(e => $"{e.Index}:{e.Term}:{(int)e.Type}:{Text(e)}"));
}
