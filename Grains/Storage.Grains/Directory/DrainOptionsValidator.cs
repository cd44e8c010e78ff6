using Microsoft.Extensions.Options;

namespace Storage.Directory;

internal sealed class DrainOptionsValidator : IValidateOptions<DrainOptions>
{
    public ValidateOptionsResult Validate(string? name, DrainOptions options) =>
        options.Timeout < TimeSpan.Zero || options.Timeout > TimeSpan.FromHours(1)
            ? ValidateOptionsResult.Fail($"{DrainOptions.SectionName}:Timeout must be between 0 and 1 hour (got {options.Timeout})")
            : ValidateOptionsResult.Success;
}
