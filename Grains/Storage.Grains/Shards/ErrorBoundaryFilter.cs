using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Storage.Directory;

namespace Storage.Shards;

/// <summary>
/// Translates every error a call to one of the store's grains ends with into a wire-safe
/// <see cref="StorageException"/> (<see cref="ErrorBoundary.Translate"/>) before Orleans serializes the response.
/// One filter rather than a try/catch in each public grain method: it covers every method, including ones added
/// later, and the grains keep throwing whatever describes the failure best.
/// </summary>
internal sealed partial class ErrorBoundaryFilter : IIncomingGrainCallFilter
{
    private readonly string? _connectionString;
    private readonly ILogger<ErrorBoundaryFilter> _logger;

    public ErrorBoundaryFilter(IOptions<StorageOptions> options, ILogger<ErrorBoundaryFilter> logger)
    {
        _connectionString = options.Value.ConnectionString;
        _logger = logger;
    }

    // Every incoming call passes here (Raft's one-way deliveries included): other grains' calls go straight through,
    // without an async frame of this filter's own.
    public Task Invoke(IIncomingGrainCallContext context) =>
        context.Grain is IStore or IShardReplicaGrain or IDirectoryGrain ? InvokeTranslatingAsync(context) : context.Invoke();

    private async Task InvokeTranslatingAsync(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e)
        {
            var typed = ErrorBoundary.Translate(e, _connectionString);
            if (ReferenceEquals(typed, e))
            {
                throw;
            }

            LogTranslated(e, context.InterfaceMethod?.Name ?? "?", e.GetType().FullName ?? e.GetType().Name, typed.GetType().Name);
            throw typed;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} failed with {Original}; answered as {Typed}")]
    private partial void LogTranslated(Exception exception, string method, string original, string typed);
}
