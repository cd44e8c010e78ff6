using Microsoft.Extensions.Options;

namespace Storage.Routing;

/// <summary>Checks <see cref="RouterOptions"/> at silo start; each failure names its setting under <c>Storage:Router</c>.</summary>
internal sealed class RouterOptionsValidator : IValidateOptions<RouterOptions>
{
    public ValidateOptionsResult Validate(string? name, RouterOptions options)
    {
        var errors = new List<string>();
        if (options.RetryBudget < TimeSpan.Zero)
        {
            errors.Add($"Storage:Router:RetryBudget must not be negative (got {options.RetryBudget})");
        }

        // Zero would turn the doubling back-off into a busy loop.
        if (options.RetryDelay <= TimeSpan.Zero)
        {
            errors.Add($"Storage:Router:RetryDelay must be positive (got {options.RetryDelay})");
        }

        if (options.MaxScanLimit < 1)
        {
            errors.Add($"Storage:Router:MaxScanLimit must be at least 1 (got {options.MaxScanLimit})");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
