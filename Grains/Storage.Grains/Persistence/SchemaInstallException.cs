using Npgsql;

namespace Storage.Persistence;

/// <summary>A schema script failed; the whole install was rolled back.</summary>
public sealed class SchemaInstallException : Exception
{
    public SchemaInstallException(string script, PostgresException inner)
        : base($"Schema script {script} failed: {inner.MessageText} (SQLSTATE {inner.SqlState}"
               + (inner.Position > 0 ? $", at character {inner.Position}" : string.Empty) + ")", inner)
    {
        Script = script;
    }

    public string Script { get; }
}
