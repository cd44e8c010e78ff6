using System.Text.Json;
using System.Text.Json.Serialization;

namespace Storage.Bench;

/// <summary>Writes and reads <see cref="BenchResult"/> JSON files (camelCase, indented; one result per file).</summary>
public static class BenchResultJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Serialize(BenchResult result) => JsonSerializer.Serialize(result, Options);

    public static BenchResult Deserialize(string json) =>
        JsonSerializer.Deserialize<BenchResult>(json, Options) ?? throw new JsonException("the file holds no result");

    public static async Task WriteAsync(string path, BenchResult result, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } folder)
        {
            System.IO.Directory.CreateDirectory(folder);
        }

        await File.WriteAllTextAsync(full, Serialize(result) + Environment.NewLine, ct).ConfigureAwait(false);
    }

    public static async Task<BenchResult> ReadAsync(string path, CancellationToken ct = default) =>
        Deserialize(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false));
}
