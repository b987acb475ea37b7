using HomeServer.Gateway.Errors;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Rooms;

/// <summary>Path parameters of the rooms API, checked before any grain is asked.</summary>
internal static class RoomPath
{
    /// <summary>The room id, or 400 M_INVALID_PARAM.</summary>
    public static string RoomId(string value)
    {
        var decoded = Text(value);
        return Grains.Identifiers.RoomId.IsValid(decoded) ? decoded : throw InvalidParam($"'{decoded}' is not a room ID.");
    }

    /// <summary>
    /// Event ids of any room version (v1/v2 <c>$opaque:server</c>, v3 base64 with <c>/</c> and <c>+</c>, v4+ URL-safe
    /// base64). Anything starting with <c>$</c> may name an event, so only other strings are refused as malformed.
    /// </summary>
    public static string EventId(string value)
    {
        var decoded = Text(value);
        return decoded.StartsWith('$') ? decoded : throw InvalidParam($"'{decoded}' is not an event ID.");
    }

    public static string UserId(string value)
    {
        var decoded = Text(value);
        return Grains.Identifiers.UserId.IsValid(decoded) ? decoded : throw InvalidParam($"'{decoded}' is not a user ID.");
    }

    public static string RoomAlias(string value)
    {
        var decoded = Text(value);
        return Grains.Identifiers.RoomAlias.IsValid(decoded) ? decoded : throw InvalidParam("Room alias invalid.");
    }

    /// <summary>
    /// Route values arrive percent-decoded except for <c>%2F</c>, which the server keeps so a slash inside a value
    /// does not split the path; event types, state keys and transaction ids may hold slashes.
    /// </summary>
    public static string Text(string value) =>
        value.Contains('%') ? value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) : value;

    /// <summary>An event type, state key or transaction id: at most 255 bytes of UTF-8 and no NUL, as stored.</summary>
    public static string Key(string value, string name)
    {
        var decoded = Text(value);
        if (decoded.Contains('\0') || System.Text.Encoding.UTF8.GetByteCount(decoded) > 255)
            throw InvalidParam($"The {name} must be at most 255 bytes and hold no NUL character.");
        return decoded;
    }

    public static MatrixException InvalidParam(string message) =>
        new(StatusCodes.Status400BadRequest, "M_INVALID_PARAM", message);

    public static MatrixException MissingParam(string message) =>
        new(StatusCodes.Status400BadRequest, "M_MISSING_PARAM", message);
}
