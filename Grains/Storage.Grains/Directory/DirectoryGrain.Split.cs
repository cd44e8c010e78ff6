namespace Storage.Directory;

// Splits: being built (issue 10); until then an operator's split request is refused with a clear error.
public sealed partial class DirectoryGrain
{
    public Task<long> Split(int shardId, ulong? splitAt) =>
        throw new InvalidRequestException("shard splits are not available in this build");
}
