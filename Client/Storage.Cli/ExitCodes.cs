namespace Storage.Cli;

/// <summary>The <c>storage</c> command's exit codes; scripts can tell a conflict or a missing key from a failure.</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>Any other error: bad key or value, a file that cannot be read, an unexpected failure.</summary>
    public const int Error = 1;

    /// <summary>The command line is wrong: unknown verb or option, missing argument, no cluster given.</summary>
    public const int Usage = 2;

    /// <summary><c>cas</c> found another version than the expected one; nothing was written.</summary>
    public const int VersionConflict = 3;

    /// <summary><c>get</c> found no such key.</summary>
    public const int NotFound = 4;

    /// <summary>The cluster could not be reached, or a shard did not answer in time (a write's outcome is then unknown).</summary>
    public const int Unavailable = 5;
}
