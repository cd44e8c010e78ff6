using Microsoft.Extensions.Options;

namespace Storage.Persistence;

/// <summary>Checks <see cref="DatabaseOptions"/> at silo start; each failure names its setting under <c>Storage:Database</c>.</summary>
internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var errors = new List<string>();
        if (options.MaxPoolSize < 1)
        {
            errors.Add($"Storage:Database:MaxPoolSize must be at least 1 (got {options.MaxPoolSize})");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
