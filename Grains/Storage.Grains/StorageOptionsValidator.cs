using Microsoft.Extensions.Options;
using Npgsql;

namespace Storage;

/// <summary>Checks <see cref="StorageOptions"/> at silo start; each failure names its setting.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add("Storage:ConnectionString is required (the PostgreSQL that holds membership, checkpoints and the Raft logs); "
                + "for a development cluster with an embedded PostgreSQL run infra/local/run.sh");
        }
        else
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException e)
            {
                errors.Add($"Storage:ConnectionString is not a valid PostgreSQL connection string: {e.Message}");
            }
        }

        if (string.IsNullOrWhiteSpace(options.Region))
        {
            errors.Add("Storage:Region must not be empty");
        }

        if (string.IsNullOrWhiteSpace(options.Zone))
        {
            errors.Add("Storage:Zone must not be empty");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
