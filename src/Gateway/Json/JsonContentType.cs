namespace HomeServer.Gateway.Json;

/// <summary>
/// The Content-Type of every JSON response. The spec requires JSON to be UTF-8; naming the charset costs nothing and
/// spares clients that read it a guess (ASP.NET's own JSON results say the same).
/// </summary>
public static class JsonContentType
{
    public const string Utf8 = "application/json; charset=utf-8";
}
