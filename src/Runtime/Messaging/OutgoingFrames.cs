using System.Text.Json;
using HomeServer.Runtime.Invocation;

namespace HomeServer.Runtime.Messaging;

/// <summary>A frame waiting in a connection's send queue. Its payload is written by the connection's single writer.</summary>
internal abstract class OutgoingFrame(FrameType type)
{
    public FrameType Type { get; } = type;

    public abstract void WritePayload(Utf8JsonWriter writer, JsonSerializerOptions options);

    /// <summary>The payload could not be written (e.g. an argument is not serialisable) or the connection closed first.</summary>
    public virtual void OnSendFailed(Exception error)
    {
    }
}

internal sealed class RequestFrame(long id, GrainId target, GrainMethod method, object?[] arguments, int timeoutMs, int hops,
    Action<Exception> onSendFailed) : OutgoingFrame(FrameType.Request)
{
    public override void WritePayload(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", id);
        writer.WriteString("type", target.Type);
        writer.WriteString("key", target.Key);
        writer.WriteString("method", method.Name);
        writer.WriteNumber("timeout", timeoutMs);
        writer.WriteNumber("hops", hops);
        writer.WriteStartArray("args");
        for (var i = 0; i < arguments.Length; i++)
        {
            if (i == method.CancellationTokenIndex) writer.WriteNullValue();
            else JsonSerializer.Serialize(writer, arguments[i], method.ParameterTypes[i], options);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public override void OnSendFailed(Exception error) => onSendFailed(error);
}

internal sealed class ResponseFrame : OutgoingFrame
{
    private readonly long _id;
    private readonly ResponseStatus _status;
    private readonly object? _result;
    private readonly Type? _resultType;
    private readonly Exception? _error;

    private ResponseFrame(long id, ResponseStatus status, object? result, Type? resultType, Exception? error) : base(FrameType.Response)
    {
        _id = id;
        _status = status;
        _result = result;
        _resultType = resultType;
        _error = error;
    }

    public static ResponseFrame Success(long id, object? result, Type? resultType) => new(id, ResponseStatus.Ok, result, resultType, null);

    public static ResponseFrame Failure(long id, Exception error) =>
        new(id, error is TransientRejectionException ? ResponseStatus.TransientRejection : ResponseStatus.Error, null, null, error);

    public override void WritePayload(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", _id);
        writer.WriteNumber("status", (int)_status);
        if (_error is not null)
        {
            writer.WriteString("errorType", _error.GetType().FullName);
            writer.WriteString("error", _error.Message);
        }
        else if (_resultType is not null)
        {
            writer.WritePropertyName("result");
            JsonSerializer.Serialize(writer, _result, _resultType, options);
        }
        writer.WriteEndObject();
    }
}

/// <summary>A small control frame: ping, pong, cancel, membership change, release.</summary>
internal sealed class ControlFrame(FrameType type, long id, string? text = null) : OutgoingFrame(type)
{
    public override void WritePayload(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", id);
        if (text is not null) writer.WriteString("text", text);
        writer.WriteEndObject();
    }
}

internal sealed class HelloFrame(HelloMessage hello) : OutgoingFrame(FrameType.Hello)
{
    public override void WritePayload(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("protocol", hello.ProtocolVersion);
        writer.WriteString("build", hello.Build);
        if (hello.Silo is not null) writer.WriteString("silo", hello.Silo);
        writer.WriteEndObject();
    }
}

/// <summary>Who is on the other end: the protocol version it speaks, its build, and its silo address (null for a client).</summary>
public sealed record HelloMessage(int ProtocolVersion, string Build, string? Silo);
