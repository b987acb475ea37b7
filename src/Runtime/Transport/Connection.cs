using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Messaging;
using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Transport;

/// <summary>
/// One TCP connection between two runtime endpoints, carrying length-prefixed frames both ways. Requests are
/// correlated with responses by id. A single writer drains the send queue and flushes once per batch, so many
/// concurrent calls share one syscall. A malformed frame closes only this connection.
/// </summary>
internal sealed class Connection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly Channel<OutgoingFrame> _outgoing = Channel.CreateUnbounded<OutgoingFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, PendingReply> _pending = new();
    private readonly TaskCompletionSource<HelloMessage> _peerHello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _closing = new();
    private readonly ConnectionContext _context;
    private readonly IConnectionHandler _handler;
    private readonly string _peer;
    private long _nextId;
    private Task? _running;

    public Connection(Socket socket, ConnectionContext context, IConnectionHandler handler)
    {
        socket.NoDelay = true;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024));
        _context = context;
        _handler = handler;
        _peer = context.PeerDescription ?? socket.RemoteEndPoint?.ToString() ?? "peer";
    }

    /// <summary>The peer's hello, once received.</summary>
    public Task<HelloMessage> PeerHello => _peerHello.Task;

    public bool IsClosed => _closing.IsCancellationRequested;

    public Task Completion => _running ?? Task.CompletedTask;

    /// <summary>Starts reading and writing and sends our hello first.</summary>
    public void Start()
    {
        _outgoing.Writer.TryWrite(new HelloFrame(_context.LocalHello));
        _running = RunAsync();
    }

    private async Task RunAsync()
    {
        var writing = WriteLoopAsync();
        Exception? error = null;
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Closed locally.
        }
        catch (Exception ex)
        {
            error = ex;
            if (ex is InvalidDataException or JsonException or ProtocolMismatchException)
                _context.Logger.LogWarning("Closing connection from {Remote}: {Reason}", _peer, ex.Message);
            else if (!IsClosed)
                _context.Logger.LogDebug(ex, "Connection to {Remote} failed", _peer);
        }
        finally
        {
            Close(error);
        }
        await writing.ConfigureAwait(false);
        await Quietly(_reader.CompleteAsync()).ConfigureAwait(false);
        await Quietly(_stream.DisposeAsync()).ConfigureAwait(false);
    }

    /// <summary>Completing pipes flushes what is left, which fails on a connection the peer already reset.</summary>
    private static async ValueTask Quietly(ValueTask cleanup)
    {
        try
        {
            await cleanup.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    /// <summary>Sends a request and waits for its response, at most <paramref name="timeout"/>.</summary>
    public async ValueTask<object?> SendRequestAsync(GrainId target, GrainMethod method, object?[] arguments, TimeSpan timeout, int hops, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var pending = new PendingReply(method.ResultType);
        _pending[id] = pending;
        if (IsClosed) FailPending(id, Unavailable(null));
        var frame = new RequestFrame(id, target, method, arguments, (int)timeout.TotalMilliseconds, hops, error => FailPending(id, error));
        if (!_outgoing.Writer.TryWrite(frame)) FailPending(id, Unavailable(null));

        try
        {
            return await pending.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            CancelRemote(id);
            throw;
        }
        catch (TimeoutException) when (!pending.Task.IsCompleted)
        {
            CancelRemote(id);
            throw new GrainCallTimeoutException($"Call to {target}.{method.Name} on {_peer} did not complete within {timeout.TotalSeconds:0.###} s.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Sends a control frame that the peer answers with the same id (ping → pong, release → released).</summary>
    public async Task<string?> SendControlAsync(FrameType type, string? text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var pending = new PendingReply(typeof(string));
        _pending[id] = pending;
        try
        {
            if (IsClosed || !_outgoing.Writer.TryWrite(new ControlFrame(type, id, text))) throw Unavailable(null);
            return (string?)await pending.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Sends a one-way frame. Returns false if the connection is closed.</summary>
    public bool Post(OutgoingFrame frame) => !IsClosed && _outgoing.Writer.TryWrite(frame);

    /// <summary>Answers a control frame (release → released).</summary>
    public void Reply(FrameType type, long id, string? text = null) => Post(new ControlFrame(type, id, text));

    private void CancelRemote(long id)
    {
        if (_pending.TryRemove(id, out var pending)) pending.TrySetCanceled();
        Post(new ControlFrame(FrameType.Cancel, id));
    }

    private void FailPending(long id, Exception error)
    {
        if (_pending.TryRemove(id, out var pending)) pending.TrySetException(error);
    }

    private SiloUnavailableException Unavailable(Exception? inner) =>
        new($"The connection to {_peer} is closed; the call may not have run.", inner);

    private async Task WriteLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        await using var json = new Utf8JsonWriter(buffer);
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                while (_outgoing.Reader.TryRead(out var frame))
                {
                    buffer.ResetWrittenCount();
                    json.Reset(buffer);
                    try
                    {
                        frame.WritePayload(json, _context.Serializer.Options);
                        json.Flush();
                    }
                    catch (Exception ex)
                    {
                        frame.OnSendFailed(new ArgumentException($"Could not serialise a {frame.Type} frame: {ex.Message}", ex));
                        continue;
                    }
                    WriteFrame(frame.Type, buffer.WrittenSpan);
                }
                var flush = await _writer.FlushAsync(_closing.Token).ConfigureAwait(false);
                if (flush.IsCompleted) break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The connection is closing; pending calls are failed by Close.
        }
        finally
        {
            Close(null);
            while (_outgoing.Reader.TryRead(out var unsent)) unsent.OnSendFailed(Unavailable(null));
            await Quietly(_writer.CompleteAsync()).ConfigureAwait(false);
        }
    }

    private void WriteFrame(FrameType type, ReadOnlySpan<byte> payload)
    {
        var span = _writer.GetSpan(WireProtocol.HeaderLength + payload.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span, payload.Length + 1);
        span[4] = (byte)type;
        payload.CopyTo(span[WireProtocol.HeaderLength..]);
        _writer.Advance(WireProtocol.HeaderLength + payload.Length);
    }

    private async Task ReadLoopAsync()
    {
        while (true)
        {
            var result = await _reader.ReadAsync(_closing.Token).ConfigureAwait(false);
            var buffer = result.Buffer;
            while (TryReadFrame(ref buffer, out var type, out var payload)) HandleFrame(type, payload);
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                if (!buffer.IsEmpty) throw new InvalidDataException($"truncated frame ({buffer.Length} bytes left when the peer closed)");
                return;
            }
        }
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out FrameType type, out ReadOnlySequence<byte> payload)
    {
        type = default;
        payload = default;
        if (buffer.Length < WireProtocol.HeaderLength) return false;
        Span<byte> header = stackalloc byte[WireProtocol.HeaderLength];
        buffer.Slice(0, WireProtocol.HeaderLength).CopyTo(header);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 1 || length > WireProtocol.MaxFrameLength) throw new InvalidDataException($"invalid frame length {length}");
        if (buffer.Length < 4 + length) return false;
        type = (FrameType)header[4];
        payload = buffer.Slice(WireProtocol.HeaderLength, length - 1);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private void HandleFrame(FrameType type, ReadOnlySequence<byte> payload)
    {
        if (!_peerHello.Task.IsCompleted && type != FrameType.Hello)
            throw new InvalidDataException($"expected a hello frame first, got {type}");
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        switch (type)
        {
            case FrameType.Hello:
                AcceptHello(root);
                break;
            case FrameType.Request:
                HandleRequest(root);
                break;
            case FrameType.Response:
                HandleResponse(root);
                break;
            case FrameType.Cancel:
                _handler.OnCancel(this, root.GetProperty("id").GetInt64());
                break;
            case FrameType.Ping:
                Reply(FrameType.Pong, root.GetProperty("id").GetInt64(), _context.LocalHello.Silo);
                break;
            case FrameType.Pong:
            case FrameType.Released:
            case FrameType.DrainAccepted:
                if (_pending.TryRemove(root.GetProperty("id").GetInt64(), out var pending))
                    pending.TrySetResult(root.TryGetProperty("text", out var text) ? text.GetString() : null);
                break;
            case FrameType.MembershipChanged:
            case FrameType.Release:
            case FrameType.Drain:
                _handler.OnControl(this, type, root.GetProperty("id").GetInt64(),
                    root.TryGetProperty("text", out var controlText) ? controlText.GetString() : null);
                break;
            default:
                throw new InvalidDataException($"unknown frame type {(byte)type}");
        }
    }

    private void AcceptHello(JsonElement root)
    {
        var hello = new HelloMessage(
            root.GetProperty("protocol").GetInt32(),
            root.GetProperty("build").GetString() ?? "",
            root.TryGetProperty("silo", out var silo) ? silo.GetString() : null);
        if (hello.ProtocolVersion < WireProtocol.MinSupportedVersion || hello.ProtocolVersion > WireProtocol.CurrentVersion)
        {
            var error = new ProtocolMismatchException(
                $"peer speaks protocol {hello.ProtocolVersion} (build {hello.Build}); this build ({_context.LocalHello.Build}) supports {WireProtocol.MinSupportedVersion}..{WireProtocol.CurrentVersion}");
            _peerHello.TrySetException(error);
            throw error;
        }
        if (hello.Build != _context.LocalHello.Build)
            _context.Logger.LogInformation("Peer {Peer} runs build {PeerBuild}, this process {Build}; both speak protocol {Protocol}",
                hello.Silo ?? _peer, hello.Build, _context.LocalHello.Build, hello.ProtocolVersion);
        _peerHello.TrySetResult(hello);
    }

    private void HandleRequest(JsonElement root)
    {
        var id = root.GetProperty("id").GetInt64();
        IncomingRequest request;
        try
        {
            var target = new GrainId(root.GetProperty("type").GetString()!, root.GetProperty("key").GetString()!);
            var method = _context.Registry.GetInterface(target.Type).GetMethod(root.GetProperty("method").GetString()!);
            var json = root.GetProperty("args");
            if (json.GetArrayLength() != method.ParameterTypes.Length)
                throw new UnknownGrainMethodException($"{method} takes {method.ParameterTypes.Length} arguments, the request has {json.GetArrayLength()}.");
            var arguments = new object?[method.ParameterTypes.Length];
            var i = 0;
            foreach (var element in json.EnumerateArray())
            {
                arguments[i] = i == method.CancellationTokenIndex
                    ? CancellationToken.None
                    : element.Deserialize(method.ParameterTypes[i], _context.Serializer.Options);
                i++;
            }
            request = new IncomingRequest(id, target, method, arguments,
                root.GetProperty("timeout").GetInt32(), root.GetProperty("hops").GetInt32());
        }
        catch (Exception ex) when (ex is UnknownGrainTypeException or UnknownGrainMethodException or JsonException or NotSupportedException)
        {
            Post(ResponseFrame.Failure(id, ex is JsonException or NotSupportedException
                ? new ArgumentException($"Could not deserialise the arguments: {ex.Message}")
                : ex));
            return;
        }
        _handler.OnRequest(this, request);
    }

    private void HandleResponse(JsonElement root)
    {
        if (!_pending.TryGetValue(root.GetProperty("id").GetInt64(), out var pending)) return; // timed out or cancelled
        var status = (ResponseStatus)root.GetProperty("status").GetInt32();
        switch (status)
        {
            case ResponseStatus.Ok:
                try
                {
                    pending.TrySetResult(pending.ResultType is null || !root.TryGetProperty("result", out var result)
                        ? null
                        : result.Deserialize(pending.ResultType, _context.Serializer.Options));
                }
                catch (Exception ex) when (ex is JsonException or NotSupportedException)
                {
                    pending.TrySetException(new InvalidDataException($"Could not deserialise the result: {ex.Message}", ex));
                }
                break;
            case ResponseStatus.TransientRejection:
                pending.TrySetException(new TransientRejectionException(root.GetProperty("error").GetString() ?? ""));
                break;
            default:
                pending.TrySetException(RemoteExceptions.Recreate(
                    root.GetProperty("errorType").GetString(), root.GetProperty("error").GetString()));
                break;
        }
    }

    /// <summary>Closes the connection; every call still waiting fails with <see cref="SiloUnavailableException"/>.</summary>
    public void Close(Exception? error)
    {
        if (_closing.IsCancellationRequested) return;
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        _outgoing.Writer.TryComplete();
        _peerHello.TrySetException(Unavailable(error));
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        foreach (var id in _pending.Keys) FailPending(id, Unavailable(error));
        _handler.OnClosed(this);
    }

    public async ValueTask DisposeAsync()
    {
        Close(null);
        if (_running is not null) await _running.ConfigureAwait(false);
    }

    private sealed class PendingReply(Type? resultType) : TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public Type? ResultType { get; } = resultType;
    }
}

/// <summary>The peer speaks a protocol version this build does not support.</summary>
public sealed class ProtocolMismatchException(string message) : Exception(message);
