using System.Data.Common;
using HomeServer.Gateway;
using HomeServer.Silo.Configuration;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Startup;

/// <summary>Logs the settings an operator most needs to see at start, without secrets.</summary>
internal sealed partial class StartupSummaryLogger(
    IOptions<HomeServerOptions> host,
    IOptions<StorageOptions> storage,
    IOptions<MatrixGatewayOptions> gateway,
    RegistrationPolicy registration,
    ILogger<StartupSummaryLogger> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogServer(host.Value.ServerName, gateway.Value.PublicBaseUrl, host.Value.Urls);
        LogStorage(DescribeStorage(storage.Value), Path.GetFullPath(host.Value.DataDirectory));
        LogRegistration(registration.Mode.ToString().ToLowerInvariant(), registration.Reason);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Only the keys that say where the data is; the rest of a connection string may hold a password.
    internal static string DescribeStorage(StorageOptions options)
    {
        var parts = new DbConnectionStringBuilder { ConnectionString = options.ConnectionString };
        var keys = options.Kind == StorageKind.Sqlite ? new[] { "Data Source" } : ["Host", "Port", "Database"];
        var location = keys
            .Where(key => parts.TryGetValue(key, out var value) && value is not null)
            .Select(key => $"{key}={parts[key]}");
        return $"{options.Kind.ToString().ToLowerInvariant()} ({string.Join(", ", location)})";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Server name {ServerName}, public base URL {PublicBaseUrl}, listen URLs {Urls}")]
    private partial void LogServer(string serverName, string? publicBaseUrl, string urls);

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage {Storage}, data directory {DataDirectory}")]
    private partial void LogStorage(string storage, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registration is {Mode}: {Reason}")]
    private partial void LogRegistration(string mode, string reason);
}
