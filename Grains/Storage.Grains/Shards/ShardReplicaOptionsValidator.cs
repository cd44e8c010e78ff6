using Microsoft.Extensions.Options;

namespace Storage.Shards;

/// <summary>Checks <see cref="ShardReplicaOptions"/> at silo start; each failure names its setting under <c>Storage:Replica</c>.</summary>
internal sealed class ShardReplicaOptionsValidator : IValidateOptions<ShardReplicaOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardReplicaOptions options)
    {
        var errors = new List<string>();
        if (options.TickInterval <= TimeSpan.Zero)
        {
            errors.Add($"Storage:Replica:TickInterval must be positive (got {options.TickInterval})");
        }

        if (options.HeartbeatTicks < 1)
        {
            errors.Add($"Storage:Replica:HeartbeatTicks must be at least 1 (got {options.HeartbeatTicks})");
        }

        if (options.ElectionTicks <= options.HeartbeatTicks)
        {
            errors.Add($"Storage:Replica:ElectionTicks must be greater than HeartbeatTicks ({options.HeartbeatTicks}) (got {options.ElectionTicks})");
        }

        // Two ticks cover tick granularity exactly (see LeaseDriftTicks); a lease as long as the election timeout would be unsafe.
        if (options.LeaseDriftTicks < 2 || options.LeaseDriftTicks >= options.ElectionTicks)
        {
            errors.Add($"Storage:Replica:LeaseDriftTicks must be at least 2 and less than ElectionTicks ({options.ElectionTicks}) (got {options.LeaseDriftTicks})");
        }

        if (options.CheckpointEntries < 1)
        {
            errors.Add($"Storage:Replica:CheckpointEntries must be positive (got {options.CheckpointEntries})");
        }

        if (options.CheckpointBytes < 1)
        {
            errors.Add($"Storage:Replica:CheckpointBytes must be positive (got {options.CheckpointBytes})");
        }

        if (options.OperationTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Storage:Replica:OperationTimeout must be positive (got {options.OperationTimeout})");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
