using System.Text.Json;
using System.Text.RegularExpressions;

namespace HomeServer.Server.Tests.Fuzz;

/// <summary>What every answer to a hostile request must look like; each rule returns a problem or null.</summary>
public static partial class ResponseRules
{
    /// <summary>
    /// Kestrel answers some malformed requests itself, before any middleware runs, with an empty body and closes the
    /// connection: a request line or headers too long (414, 431), a path holding a NUL (400). No Matrix error can be
    /// written there; the rule for them is only that nothing leaks.
    /// </summary>
    public static bool IsProtocolLevel(int status, bool connectionClose, string body) =>
        status is 400 or 414 or 431 && connectionClose && body.Length == 0;

    public static string? Check(string method, int status, string? mediaType, string body, bool connectionClose)
    {
        // 502 and 504 say another server (named by a hostile id such as @x:other.example) could not be reached or did
        // not answer in time, as the spec's federation errors have it; they must still be Matrix errors, checked below.
        if (status >= 500 && status is not (502 or 504)) return $"{status} server error";
        if (LeaksInternals(body)) return $"{status} body leaks internals";
        if (status < 400 || method == "HEAD" || IsProtocolLevel(status, connectionClose, body)) return null;

        if (mediaType != "application/json") return $"{status} error body is {mediaType ?? "untyped"}, not JSON";
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return $"{status} error body is not JSON";
        }
        if (root.ValueKind != JsonValueKind.Object) return $"{status} error body is not an object";
        // The spec's user-interactive authentication answers 401 with the flows instead of an error (and an errcode
        // only after a failed stage).
        if (status == 401 && root.TryGetProperty("flows", out var flows) && flows.ValueKind == JsonValueKind.Array) return null;
        if (!root.TryGetProperty("errcode", out var errcode) || errcode.ValueKind != JsonValueKind.String
            || !errcode.GetString()!.StartsWith("M_", StringComparison.Ordinal))
            return $"{status} error body has no Matrix errcode";
        return null;
    }

    public static bool LeaksInternals(string body) => StackFrame().IsMatch(body) || ExceptionName().IsMatch(body);

    [GeneratedRegex(@"\bat [A-Za-z_][\w.`<>]*\.[\w<>]+\(")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\b(System|Microsoft|Orleans|HomeServer)\.[\w.]*(Exception|Error)\b|\b\w+Exception\b")]
    private static partial Regex ExceptionName();
}
