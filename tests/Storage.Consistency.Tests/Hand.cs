using Xunit.Abstractions;

namespace Storage.Consistency.Tests;

/// <summary>
/// Shorthand for hand-made single-key histories: Put/Get/... on key "k" with explicit times. Operations
/// get ids 0, 1, 2, ... in the order they are added, which the tests use to name the offending ones.
/// </summary>
internal sealed class Hand
{
    public const string K = "k";

    private readonly HistoryBuilder _builder = new();

    public Hand Put(int client, string value, long invoke, long complete, long version, bool? existed = null)
    {
        _builder.Ok(client, Operation.Put(K, value), invoke, complete, OperationResult.Written(version, existed));
        return this;
    }

    public Hand PutUnknown(int client, string value, long invoke, long? gaveUp = null)
    {
        _builder.Unknown(client, Operation.Put(K, value), invoke, gaveUp);
        return this;
    }

    public Hand PutFailed(int client, string value, long invoke, long complete)
    {
        _builder.Failed(client, Operation.Put(K, value), invoke, complete);
        return this;
    }

    public Hand Delete(int client, long invoke, long complete, bool existed)
    {
        _builder.Ok(client, Operation.Delete(K), invoke, complete, OperationResult.Deleted(existed));
        return this;
    }

    public Hand DeleteUnknown(int client, long invoke, long? gaveUp = null)
    {
        _builder.Unknown(client, Operation.Delete(K), invoke, gaveUp);
        return this;
    }

    public Hand Cas(int client, long expected, string value, long invoke, long complete, long version, bool? existed = null)
    {
        _builder.Ok(client, Operation.Cas(K, expected, value), invoke, complete, OperationResult.Written(version, existed));
        return this;
    }

    public Hand CasConflict(int client, long expected, string value, long invoke, long complete, long actual)
    {
        _builder.Ok(client, Operation.Cas(K, expected, value), invoke, complete, OperationResult.Conflict(actual));
        return this;
    }

    public Hand CasUnknown(int client, long expected, string value, long invoke, long? gaveUp = null)
    {
        _builder.Unknown(client, Operation.Cas(K, expected, value), invoke, gaveUp);
        return this;
    }

    public Hand Get(int client, long invoke, long complete, string value, long version)
    {
        _builder.Ok(client, Operation.Get(K), invoke, complete, OperationResult.ReadValue(value, version));
        return this;
    }

    public Hand GetMissing(int client, long invoke, long complete, long version = 0)
    {
        _builder.Ok(client, Operation.Get(K), invoke, complete, OperationResult.Read(false, (ValueBytes?)null, version));
        return this;
    }

    public History Build() => _builder.Build();

    public CheckResult Check(ITestOutputHelper output, CheckerOptions? options = null)
    {
        var history = Build();
        var result = LinearizabilityChecker.Check(history, options);
        output.WriteLine(history.Render());
        output.WriteLine(result.Render());
        return result;
    }
}
