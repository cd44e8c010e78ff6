using Microsoft.Extensions.Logging;

namespace Storage.Development;

public sealed partial class EmbeddedPostgres
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Initialising PostgreSQL data folder {DataDirectory} with {BinDirectory}")]
    private static partial void LogInitialising(ILogger logger, string dataDirectory, string binDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A PostgreSQL server is already running on {DataDirectory} (port {Port}); attaching to it, and leaving it running on dispose")]
    private static partial void LogAttaching(ILogger logger, string dataDirectory, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL listening on 127.0.0.1:{Port} (data {DataDirectory}, log {LogFile})")]
    private static partial void LogStarted(ILogger logger, int port, string dataDirectory, string logFile);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL on port {Port} stopped (data {DataDirectory})")]
    private partial void LogStopped(int port, string dataDirectory);
}
