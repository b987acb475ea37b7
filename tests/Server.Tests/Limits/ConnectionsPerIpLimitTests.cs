using System.Net.Sockets;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Limits;

/// <summary>InputLimits:MaxConnectionsPerIp: N connections from one address are served, the N+1st is closed at once.</summary>
public sealed class ConnectionsPerIpLimitTests
{
    private static async Task<TcpClient> ConnectAsync(Uri address)
    {
        var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        return client;
    }

    /// <summary>Sends a keep-alive GET /versions and reads the status line, or null when the server closed the connection.</summary>
    private static async Task<string?> VersionsStatusAsync(TcpClient client)
    {
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /_matrix/client/versions HTTP/1.1\r\nHost: test\r\n\r\n"));
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return read == 0 ? null : Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
        }
        catch (Exception exception) when (exception is IOException or SocketException)
        {
            return null;
        }
    }

    /// <summary>The status line on a new connection, or null when the server closed it (even while connecting).</summary>
    private static async Task<string?> NewConnectionStatusAsync(Uri address)
    {
        try
        {
            using var client = await ConnectAsync(address);
            return await VersionsStatusAsync(client);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Connections_beyond_the_limit_per_address_are_closed_and_a_freed_slot_is_reused()
    {
        await using var server = await RunningServer.StartAsync(["--InputLimits:MaxConnectionsPerIp=2"]);
        var address = server.Client.BaseAddress!;

        using var first = await ConnectAsync(address);
        using var second = await ConnectAsync(address);
        Assert.Equal("HTTP/1.1 200 OK", await VersionsStatusAsync(first));
        Assert.Equal("HTTP/1.1 200 OK", await VersionsStatusAsync(second));

        Assert.Null(await NewConnectionStatusAsync(address));

        first.Close();
        // The server notices the close asynchronously; a new connection gets the freed slot soon after.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string? status;
        do
        {
            status = await NewConnectionStatusAsync(address);
        }
        while (status is null && DateTime.UtcNow < deadline);
        Assert.Equal("HTTP/1.1 200 OK", status);
    }

    [Fact]
    public async Task A_trusted_proxy_is_not_limited_because_its_connections_carry_many_clients()
    {
        await using var server = await RunningServer.StartAsync(["--InputLimits:MaxConnectionsPerIp=2", "--RateLimits:TrustedProxies:0=127.0.0.1"]);
        var address = server.Client.BaseAddress!;

        using var first = await ConnectAsync(address);
        using var second = await ConnectAsync(address);
        using var third = await ConnectAsync(address);
        Assert.Equal("HTTP/1.1 200 OK", await VersionsStatusAsync(first));
        Assert.Equal("HTTP/1.1 200 OK", await VersionsStatusAsync(second));
        Assert.Equal("HTTP/1.1 200 OK", await VersionsStatusAsync(third));
    }
}
