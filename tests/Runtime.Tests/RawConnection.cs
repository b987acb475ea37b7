using System.Net.Sockets;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Messaging;
using HomeServer.Runtime.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HomeServer.Runtime.Tests;

/// <summary>A connection to one chosen silo, bypassing placement, to test what a silo does with misrouted calls.</summary>
internal sealed class RawConnection : IConnectionHandler, IAsyncDisposable
{
    private readonly GrainTypeRegistry _registry = new();
    private readonly Connection _connection;

    public RawConnection(SiloAddress silo, int protocolVersion = WireProtocol.CurrentVersion, string build = "test-build")
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(silo.EndPoint);
        _connection = new Connection(socket,
            new ConnectionContext(new HelloMessage(protocolVersion, build, null), _registry, new WireSerializer(), NullLogger.Instance), this);
        _connection.Start();
    }

    public Task<HelloMessage> PeerHello => _connection.PeerHello;

    public Task Closed => _connection.Completion;

    public async Task<TResult> CallAsync<TGrain, TResult>(string key, string method, params object?[] arguments) where TGrain : IGrain
    {
        var grainInterface = _registry.AddInterface(typeof(TGrain));
        var result = await _connection.SendRequestAsync(new GrainId(grainInterface.Name, key), grainInterface.GetMethod(method), arguments,
            TimeSpan.FromSeconds(10), hops: 0, CancellationToken.None);
        return (TResult)result!;
    }

    void IConnectionHandler.OnRequest(Connection connection, IncomingRequest request)
    {
    }

    void IConnectionHandler.OnCancel(Connection connection, long requestId)
    {
    }

    void IConnectionHandler.OnClosed(Connection connection)
    {
    }

    void IConnectionHandler.OnControl(Connection connection, FrameType type, long id, string? text)
    {
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
