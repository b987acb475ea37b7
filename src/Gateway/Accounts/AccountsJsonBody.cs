using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Accounts;

/// <summary>Request bodies that are free-form JSON objects (account data, filters, profile fields) or may be left out.</summary>
internal static class AccountsJsonBody
{
    /// <summary>The body as a JSON object: M_NOT_JSON for bad syntax, M_BAD_JSON for any other value.</summary>
    public static async ValueTask<JsonElement> ReadObjectAsync(HttpRequest request) =>
        MatrixJsonBody.ParseObject(new ReadOnlySequence<byte>(await ReadAllAsync(request)), request.InputLimits().MaxJsonDepth);

    /// <summary>The body, or null when it is empty: some clients send none where every field is optional.</summary>
    public static async ValueTask<T?> ReadOptionalAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo) where T : class
    {
        var body = await ReadAllAsync(request);
        return body.AsSpan().Trim(" \t\r\n"u8).IsEmpty ? null : MatrixJsonBody.Deserialize(new ReadOnlySequence<byte>(body), typeInfo, request.InputLimits().MaxJsonDepth);
    }

    public static async ValueTask<byte[]> ReadAllAsync(HttpRequest request)
    {
        var reader = request.BodyReader;
        var result = await reader.ReadAsync(request.HttpContext.RequestAborted);
        while (!result.IsCompleted)
        {
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await reader.ReadAsync(request.HttpContext.RequestAborted);
        }
        var body = result.Buffer.ToArray();
        reader.AdvanceTo(result.Buffer.End);
        return body;
    }

    /// <summary>The object without insignificant whitespace, as it is stored and later served.</summary>
    public static byte[] Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static IResult Bytes(byte[] json) => TypedResults.Bytes(json, JsonContentType.Utf8);

    public static IResult Empty() => TypedResults.Json(EmptyObject.Instance, AccountsJsonContext.Default.EmptyObject);
}
