namespace Storage.Directory;

/// <summary>Silo metadata keys (<c>Orleans:Metadata:region</c>, <c>Orleans:Metadata:zone</c>).</summary>
public static class SiloMetadataKeys
{
    public const string Region = "region";
    public const string Zone = "zone";
}
