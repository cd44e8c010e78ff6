using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Storage.Persistence;

/// <summary>One of the SQL files of infra/sql, as embedded into this assembly.</summary>
public sealed record SchemaScript(string Name, string Sql, string Sha256)
{
    private const string ResourcePrefix = "Storage.Persistence.Sql.";

    private static readonly Lazy<IReadOnlyList<SchemaScript>> Embedded = new(LoadEmbedded);

    /// <summary>The scripts in the order they must run: by file name, ordinal.</summary>
    public static IReadOnlyList<SchemaScript> All => Embedded.Value;

    private static IReadOnlyList<SchemaScript> LoadEmbedded()
    {
        var assembly = typeof(SchemaScript).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => FromResource(assembly, n))
            .ToList();
        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"No schema scripts are embedded in {assembly.GetName().Name} (expected resources '{ResourcePrefix}*.sql').");
        }

        return scripts;
    }

    private static SchemaScript FromResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource {resource} vanished.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // Normalise line endings so that a checkout with CRLF does not look like a schema change.
        var sql = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
        return new SchemaScript(resource[ResourcePrefix.Length..], sql, hash);
    }
}
