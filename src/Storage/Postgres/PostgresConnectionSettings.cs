using System.Data.Common;
using Npgsql;

namespace HomeServer.Storage.Postgres;

/// <summary>
/// Connection settings that make an unreachable PostgreSQL fail requests fast (they become 503 with
/// Retry-After) instead of holding them for Npgsql's defaults of 15 s to connect and 30 s per command.
/// Values the connection string sets itself are kept.
/// </summary>
public static class PostgresConnectionSettings
{
    /// <summary>Seconds to establish a connection (Npgsql <c>Timeout</c>); refused connections fail at once anyway.</summary>
    public const int ConnectTimeoutSeconds = 3;

    /// <summary>Seconds a single command may run (Npgsql <c>Command Timeout</c>); the store's queries are small.</summary>
    public const int CommandTimeoutSeconds = 10;

    /// <summary>The connection string with the fail-fast defaults added where it names no value of its own.</summary>
    public static string WithFailFastDefaults(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Timeout")) builder.Timeout = ConnectTimeoutSeconds;
        if (!given.ContainsKey("Command Timeout") && !given.ContainsKey("CommandTimeout")) builder.CommandTimeout = CommandTimeoutSeconds;
        return builder.ConnectionString;
    }

    /// <summary>
    /// Whether a failure means the server could not be reached or lost the connection (worth a retry later),
    /// as opposed to a statement the server refused.
    /// </summary>
    public static bool IsUnavailable(Exception exception) =>
        // Npgsql marks socket, I/O and timeout failures transient, and server errors such as admin_shutdown (57P01)
        // or too_many_connections (53300); constraint violations and syntax errors are not.
        exception is NpgsqlException { IsTransient: true };

    /// <summary>Whether the failure broke the connection itself (network, timeout, server shutting down) rather than one statement.</summary>
    public static bool LostTheConnection(Exception exception) =>
        exception is not PostgresException postgres || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal);
}
