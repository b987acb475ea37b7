using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Accounts;

/// <summary>A JSON response body written with a <see cref="Utf8JsonWriter"/>.</summary>
internal static class JsonWriterResult
{
    public static IResult Of(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return AccountsJsonBody.Bytes(buffer.WrittenSpan.ToArray());
    }

    /// <summary>A string member of a request object: null when absent, M_BAD_JSON when not a string.</summary>
    public static string? OptionalString(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value)) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Errors.MatrixException.BadJson($"{name} must be a string.");
    }
}
