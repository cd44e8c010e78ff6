using Microsoft.Extensions.Options;

namespace Storage.Shards;

internal sealed class ReplicaKeeperOptionsValidator : IValidateOptions<ReplicaKeeperOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicaKeeperOptions options)
    {
        var errors = new List<string>();
        if (options.Period <= TimeSpan.Zero)
        {
            errors.Add($"{ReplicaKeeperOptions.SectionName}:Period must be positive (got {options.Period})");
        }

        if (options.HomeStableFor < TimeSpan.Zero)
        {
            errors.Add($"{ReplicaKeeperOptions.SectionName}:HomeStableFor must not be negative (got {options.HomeStableFor})");
        }

        if (options.RelocationBackoff <= TimeSpan.Zero)
        {
            errors.Add($"{ReplicaKeeperOptions.SectionName}:RelocationBackoff must be positive (got {options.RelocationBackoff})");
        }

        if (options.RelocationBackoffMax < options.RelocationBackoff)
        {
            errors.Add($"{ReplicaKeeperOptions.SectionName}:RelocationBackoffMax must be at least RelocationBackoff (got {options.RelocationBackoffMax} < {options.RelocationBackoff})");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
