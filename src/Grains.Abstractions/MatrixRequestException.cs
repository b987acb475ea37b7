using Orleans;

namespace HomeServer.Grains;

/// <summary>
/// A request the homeserver refuses, with the Matrix error code the client must see (M_FORBIDDEN, M_NOT_FOUND, …).
/// Grains throw it; the gateway turns it into the HTTP status for that code. The message carries the code as
/// "ERRCODE: text"; it crosses silos with its type and code intact.
/// </summary>
[GenerateSerializer, Alias("hs.MatrixRequestException")]
public sealed class MatrixRequestException : Exception
{
    public MatrixRequestException(string errcode, string error) : base($"{errcode}: {error}")
    {
        ErrCode = errcode;
        Error = error;
    }

    /// <summary>Rebuilds the exception from an "ERRCODE: text" message.</summary>
    public MatrixRequestException(string message) : base(message)
    {
        var separator = message.IndexOf(": ", StringComparison.Ordinal);
        ErrCode = separator > 0 ? message[..separator] : "M_UNKNOWN";
        Error = separator > 0 ? message[(separator + 2)..] : message;
    }

    [Id(0)]
    public string ErrCode { get; }

    [Id(1)]
    public string Error { get; }

    public static MatrixRequestException Forbidden(string error) => new("M_FORBIDDEN", error);
    public static MatrixRequestException NotFound(string error) => new("M_NOT_FOUND", error);
    public static MatrixRequestException BadJson(string error) => new("M_BAD_JSON", error);
    public static MatrixRequestException InvalidParam(string error) => new("M_INVALID_PARAM", error);
}
