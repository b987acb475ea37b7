using System.Collections.Concurrent;
using System.Net.Sockets;
using HomeServer.Runtime.Membership;

namespace HomeServer.Runtime.Transport;

/// <summary>One outbound connection per remote silo, opened on first use and replaced when it closes.</summary>
internal sealed class ConnectionPool(Func<Socket, SiloAddress, Connection> create, TimeSpan connectTimeout) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<SiloAddress, Lazy<Task<Connection>>> _connections = new();
    private volatile bool _disposed;

    public async ValueTask<Connection> GetAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_disposed) throw new SiloUnavailableException("The runtime is stopping.");
            var lazy = _connections.GetOrAdd(silo, s => new Lazy<Task<Connection>>(() => ConnectAsync(s)));
            Connection connection;
            try
            {
                connection = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _connections.TryRemove(new KeyValuePair<SiloAddress, Lazy<Task<Connection>>>(silo, lazy));
                throw ex as SiloUnavailableException ?? new SiloUnavailableException($"Silo {silo} is unreachable: {ex.Message}", ex);
            }
            if (!connection.IsClosed) return connection;
            _connections.TryRemove(new KeyValuePair<SiloAddress, Lazy<Task<Connection>>>(silo, lazy));
        }
    }

    private async Task<Connection> ConnectAsync(SiloAddress silo)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = new CancellationTokenSource(connectTimeout);
            await socket.ConnectAsync(silo.EndPoint, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            socket.Dispose();
            throw new SiloUnavailableException($"Silo {silo} is unreachable: {ex.Message}", ex);
        }
        var connection = create(socket, silo);
        connection.Start();
        var hello = await connection.PeerHello.WaitAsync(connectTimeout).ConfigureAwait(false);
        if (hello.Silo != silo.ToString())
        {
            connection.Close(null);
            throw new SiloUnavailableException($"Silo {silo} is gone; {hello.Silo ?? "a client"} now listens on its endpoint.");
        }
        return connection;
    }

    /// <summary>Closes the connection to a silo that left the cluster.</summary>
    public void Drop(SiloAddress silo)
    {
        if (_connections.TryRemove(silo, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            lazy.Value.Result.Close(null);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var lazy in _connections.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) await lazy.Value.Result.DisposeAsync().ConfigureAwait(false);
        }
        _connections.Clear();
    }
}
