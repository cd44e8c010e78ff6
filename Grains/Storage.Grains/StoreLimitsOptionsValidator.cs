using Microsoft.Extensions.Options;

namespace Storage;

/// <summary>
/// Checks <see cref="StoreLimitsOptions"/> at silo start (the same bounds <see cref="StateMachine.StoreLimits"/>
/// enforces), so a bad limit stops the silo with the setting's name instead of failing every replica's activation.
/// </summary>
internal sealed class StoreLimitsOptionsValidator : IValidateOptions<StoreLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreLimitsOptions options)
    {
        var errors = new List<string>();
        if (options.MaxKeyBytes < 1)
        {
            errors.Add($"Storage:Limits:MaxKeyBytes must be at least 1 (got {options.MaxKeyBytes})");
        }

        if (options.MaxValueBytes < 0)
        {
            errors.Add($"Storage:Limits:MaxValueBytes must not be negative (got {options.MaxValueBytes})");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
