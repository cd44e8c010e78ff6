namespace Storage.Silo.Hosting;

/// <summary>Whether this silo has applied the schema (for the readiness probe).</summary>
public sealed class SchemaState
{
    public volatile bool Installed;
}
