using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Storage.LocalCluster;

/// <summary>
/// The launcher's console lines: "18:34:24 Started silo-0 ...", warnings and errors marked. The launcher talks to
/// a person at a terminal, so categories and event ids (the default formatter's "local-cluster[930055337]") are noise.
/// </summary>
internal sealed class LauncherConsoleFormatter : ConsoleFormatter
{
    public const string FormatterName = "launcher";

    public LauncherConsoleFormatter() : base(FormatterName)
    {
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        var level = logEntry.LogLevel switch
        {
            LogLevel.Warning => "warning: ",
            LogLevel.Error => "error: ",
            LogLevel.Critical => "critical: ",
            _ => string.Empty,
        };
        textWriter.Write($"{DateTime.Now:HH:mm:ss} {level}{message}{Environment.NewLine}");
        if (logEntry.Exception is not null)
        {
            textWriter.Write($"{logEntry.Exception}{Environment.NewLine}");
        }
    }
}
