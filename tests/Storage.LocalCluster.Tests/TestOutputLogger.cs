using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Storage.LocalCluster.Tests;

/// <summary>Sends the local cluster's log lines (silo starts, kills, restarts) to the test's output, timestamped.</summary>
internal sealed class TestOutputLogger : ILogger
{
    private readonly ITestOutputHelper _output;

    public TestOutputLogger(ITestOutputHelper output) => _output = output;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            _output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} [cluster] {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test already finished (a late line during disposal): nowhere to write it.
        }
    }
}
