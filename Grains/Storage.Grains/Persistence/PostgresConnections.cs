using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Storage.Persistence;

/// <summary>
/// Builds the store's data sources, opens connections from them and turns "could not connect" into a
/// <see cref="DatabaseUnavailableException"/>.
/// </summary>
internal static class PostgresConnections
{
    /// <summary>
    /// A pooled data source for <paramref name="connectionString"/>, at most <paramref name="maxPoolSize"/>
    /// connections, tuned for the log store's hot path unless the connection string chose otherwise: the few
    /// statements the log writer runs thousands of times a second are prepared once per connection instead of parsed
    /// and planned every time, and a pooled connection is not reset (DISCARD ALL would drop those prepared
    /// statements; the store keeps no session state to reset).
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString, int maxPoolSize, ILoggerFactory? loggerFactory = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var settings = builder.ConnectionStringBuilder;
        if (settings.MaxAutoPrepare == 0)
        {
            settings.MaxAutoPrepare = 32;
            settings.AutoPrepareMinUsages = 2;
        }

        settings.NoResetOnClose = true;
        settings.MaxPoolSize = maxPoolSize;
        // Npgsql rejects a minimum above the maximum; a connection string's minimum yields to the bound.
        settings.MinPoolSize = Math.Min(settings.MinPoolSize, maxPoolSize);
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        return builder.Build();
    }

    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        try
        {
            return await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectFailure(ex, ct))
        {
            throw Unavailable(dataSource.ConnectionString, ex);
        }
    }

    /// <summary>Every failure while opening counts, except the caller's own cancellation.</summary>
    private static bool IsConnectFailure(Exception ex, CancellationToken ct) =>
        !(ex is OperationCanceledException && ct.IsCancellationRequested) && ex is not ArgumentException;

    public static DatabaseUnavailableException Unavailable(string connectionString, Exception ex)
    {
        // Parse rather than print the connection string: it may hold a password.
        string host = "?", database = "?";
        int port = 0;
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            host = builder.Host ?? "localhost";
            port = builder.Port;
            database = builder.Database ?? builder.Username ?? "?";
        }
        catch (ArgumentException)
        {
            // A connection string we cannot parse still gets a readable error below.
        }

        return new DatabaseUnavailableException(host, port, database, Describe(ex), ex);
    }

    /// <summary>"Failed to connect to 127.0.0.1:1 (Connection refused)": the chain of messages, deduplicated.</summary>
    internal static string Describe(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            var message = e switch
            {
                PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState})",
                SocketException socket => $"{socket.Message} ({socket.SocketErrorCode})",
                _ => e.Message,
            };
            if (!string.IsNullOrWhiteSpace(message) && !parts.Any(p => p.Contains(message, StringComparison.Ordinal)))
            {
                parts.Add(message.Trim());
            }
        }

        return string.Join(" -> ", parts);
    }
}
