using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Transport;

/// <summary>Accepts inbound connections from silos and clients on one TCP endpoint.</summary>
internal sealed class ConnectionListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Func<Socket, Connection> _accept;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<Connection> _connections = [];
    private Task _acceptLoop = Task.CompletedTask;

    public ConnectionListener(IPEndPoint endPoint, Func<Socket, Connection> accept, ILogger logger)
    {
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(endPoint);
        _socket.Listen(512);
        _accept = accept;
        _logger = logger;
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public void Start() => _acceptLoop = AcceptLoopAsync();

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                _logger.LogWarning(ex, "Accepting a connection failed");
                continue;
            }
            var connection = _accept(socket);
            lock (_connections) _connections.Add(connection);
            connection.Start();
            _ = connection.Completion.ContinueWith(_ =>
            {
                lock (_connections) _connections.Remove(connection);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>Stops accepting. Existing connections stay open until <see cref="CloseAll"/>.</summary>
    public void StopAccepting()
    {
        _stopping.Cancel();
        _socket.Close();
    }

    public void CloseAll()
    {
        Connection[] open;
        lock (_connections) open = [.. _connections];
        foreach (var connection in open) connection.Close(null);
    }

    public IReadOnlyList<Connection> Connections
    {
        get
        {
            lock (_connections) return [.. _connections];
        }
    }

    public async ValueTask DisposeAsync()
    {
        StopAccepting();
        await _acceptLoop.ConfigureAwait(false);
        CloseAll();
    }
}
