using Microsoft.Extensions.Options;

namespace Storage.Persistence;

/// <summary>Checks <see cref="LogWriterOptions"/> at silo start; each failure names its setting under <c>Storage:LogWriter</c>.</summary>
internal sealed class LogWriterOptionsValidator : IValidateOptions<LogWriterOptions>
{
    public ValidateOptionsResult Validate(string? name, LogWriterOptions options)
    {
        var errors = new List<string>();
        if (options.MaxWritesPerBatch < 1)
        {
            errors.Add($"Storage:LogWriter:MaxWritesPerBatch must be at least 1 (got {options.MaxWritesPerBatch})");
        }

        if (options.MaxBytesPerBatch < 1)
        {
            errors.Add($"Storage:LogWriter:MaxBytesPerBatch must be at least 1 (got {options.MaxBytesPerBatch})");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            errors.Add($"Storage:LogWriter:ShutdownTimeout must not be negative (got {options.ShutdownTimeout})");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
