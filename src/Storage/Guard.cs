using System.Text;
using System.Text.Json;

namespace HomeServer.Storage;

/// <summary>Input checks shared by both backends, so bad input fails identically and before any write.</summary>
internal static class Guard
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void Identifier(string? value, string name) => Text(value, StoreLimits.MaxIdentifierBytes, name);

    public static void OptionalIdentifier(string? value, string name)
    {
        if (value is not null)
        {
            Identifier(value, name);
        }
    }

    /// <summary>Non-null, non-empty, well-formed UTF-16 without NUL (PostgreSQL cannot store NUL in text), at most maxBytes as UTF-8.</summary>
    public static void Text(string? value, int maxBytes, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Length == 0)
        {
            throw new ArgumentException("must not be empty", name);
        }
        OptionalText(value, maxBytes, name);
    }

    public static void OptionalText(string? value, int maxBytes, string name)
    {
        if (value is null)
        {
            return;
        }
        if (value.Contains('\0'))
        {
            throw new ArgumentException("must not contain NUL characters", name);
        }
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("must be well-formed Unicode", name, e);
        }
        if (bytes > maxBytes)
        {
            throw new ArgumentException($"is {bytes} bytes as UTF-8; the limit is {maxBytes}", name);
        }
    }

    /// <summary>Non-null, at most maxBytes, and one well-formed JSON object.</summary>
    public static void JsonObject(byte[]? json, int maxBytes, string name)
    {
        ArgumentNullException.ThrowIfNull(json, name);
        if (json.Length > maxBytes)
        {
            throw new ArgumentException($"is {json.Length} bytes; the limit is {maxBytes}", name);
        }
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 512 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ArgumentException("must be a JSON object", name);
            }
            reader.Skip();
            if (reader.Read())
            {
                throw new ArgumentException("must hold exactly one JSON object", name);
            }
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"is not valid JSON: {e.Message}", name, e);
        }
    }

    public static void Position(long value, string name) => ArgumentOutOfRangeException.ThrowIfNegative(value, name);

    public static void Limit(int value, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, StoreLimits.MaxQueryLimit, name);
    }

    public static void RoomIds(IReadOnlyCollection<string>? roomIds, string name)
    {
        ArgumentNullException.ThrowIfNull(roomIds, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(roomIds.Count, StoreLimits.MaxRoomsPerQuery, name);
        foreach (var roomId in roomIds)
        {
            Identifier(roomId, name);
        }
    }
}
