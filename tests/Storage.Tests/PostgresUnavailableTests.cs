using System.Net;
using System.Net.Sockets;
using HomeServer.Storage.Postgres;
using Npgsql;

namespace HomeServer.Storage.Tests;

/// <summary>A PostgreSQL server that cannot be reached is reported as <see cref="StoreUnavailableException"/>, with short timeouts.</summary>
public sealed class PostgresUnavailableTests
{
    [Fact]
    public async Task Opening_the_store_on_a_port_where_nothing_listens_fails_with_store_unavailable()
    {
        var exception = await Assert.ThrowsAsync<StoreUnavailableException>(() =>
            PostgresStore.OpenAsync($"Host=127.0.0.1;Port={ClosedPort()};Username=postgres;Database=postgres", CancellationToken.None));

        Assert.IsAssignableFrom<NpgsqlException>(exception.InnerException);
    }

    [Fact]
    public void Fail_fast_defaults_apply_only_where_the_connection_string_sets_nothing()
    {
        var defaults = new NpgsqlConnectionStringBuilder(PostgresConnectionSettings.WithFailFastDefaults("Host=db;Username=u"));
        Assert.Equal(PostgresConnectionSettings.ConnectTimeoutSeconds, defaults.Timeout);
        Assert.Equal(PostgresConnectionSettings.CommandTimeoutSeconds, defaults.CommandTimeout);

        var explicitValues = new NpgsqlConnectionStringBuilder(
            PostgresConnectionSettings.WithFailFastDefaults("Host=db;Username=u;Timeout=20;Command Timeout=60"));
        Assert.Equal(20, explicitValues.Timeout);
        Assert.Equal(60, explicitValues.CommandTimeout);
    }

    [Fact]
    public void Statements_the_server_refuses_are_not_unavailability()
    {
        Assert.False(PostgresConnectionSettings.IsUnavailable(new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)));
        Assert.True(PostgresConnectionSettings.IsUnavailable(new PostgresException("terminating connection", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown)));
        Assert.True(PostgresConnectionSettings.IsUnavailable(new NpgsqlException("Exception while connecting", new SocketException((int)SocketError.ConnectionRefused))));
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
