using Microsoft.Extensions.Options;

namespace Storage.Directory;

/// <summary>Checks <see cref="DirectoryOptions"/> at silo start; each failure names its setting under <c>Storage:Directory</c>.</summary>
internal sealed class DirectoryOptionsValidator : IValidateOptions<DirectoryOptions>
{
    public ValidateOptionsResult Validate(string? name, DirectoryOptions options)
    {
        var errors = new List<string>();
        if (options.InitialShards is < 1 or > 4096)
        {
            errors.Add($"Storage:Directory:InitialShards must be between 1 and 4096 (got {options.InitialShards})");
        }

        if (options.ReplicationFactor is < 1 or > 7)
        {
            errors.Add($"Storage:Directory:ReplicationFactor must be between 1 and 7 (got {options.ReplicationFactor})");
        }

        if (options.RequiredSilos < 1)
        {
            errors.Add($"Storage:Directory:InitialSilos must be at least 1 (got {options.RequiredSilos})");
        }

        if (options.RebalancePeriod <= TimeSpan.Zero)
        {
            errors.Add($"Storage:Directory:RebalancePeriod must be positive (got {options.RebalancePeriod})");
        }

        if (options.GiveUpAfter < TimeSpan.Zero)
        {
            errors.Add($"Storage:Directory:GiveUpAfter must not be negative (got {options.GiveUpAfter})");
        }

        if (options.MaxMovesInFlight is < 1 or > 1000)
        {
            errors.Add($"Storage:Directory:MaxMovesInFlight must be between 1 and 1000 (got {options.MaxMovesInFlight})");
        }

        if (options.MoveRetryAfter <= TimeSpan.Zero)
        {
            errors.Add($"Storage:Directory:MoveRetryAfter must be positive (got {options.MoveRetryAfter})");
        }

        if (options.SplitSizeBytes < 1)
        {
            errors.Add($"Storage:Directory:SplitSizeBytes must be positive (got {options.SplitSizeBytes})");
        }

        if (!(options.SplitWritesPerSecond > 0) || double.IsInfinity(options.SplitWritesPerSecond))
        {
            errors.Add($"Storage:Directory:SplitWritesPerSecond must be a positive number (got {options.SplitWritesPerSecond})");
        }

        if (options.SplitLoadWindow <= TimeSpan.Zero)
        {
            errors.Add($"Storage:Directory:SplitLoadWindow must be positive (got {options.SplitLoadWindow})");
        }

        if (options.SplitCooldown < TimeSpan.Zero)
        {
            errors.Add($"Storage:Directory:SplitCooldown must not be negative (got {options.SplitCooldown})");
        }

        if (options.SplitApplyTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Storage:Directory:SplitApplyTimeout must be positive (got {options.SplitApplyTimeout})");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
