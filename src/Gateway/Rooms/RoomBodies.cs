using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Rooms;

/// <summary>Reading request bodies of the rooms API.</summary>
internal static class RoomBodies
{
    /// <summary>The body, or <paramref name="empty"/> when there is none (clients often send nothing for POST /leave and friends).</summary>
    public static async ValueTask<T> ReadOptionalAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, T empty)
        where T : class
    {
        var body = await ReadAllAsync(request);
        return body.Length == 0 || body.AsSpan().Trim(" \t\r\n"u8).IsEmpty
            ? empty
            : MatrixJsonBody.Deserialize(new System.Buffers.ReadOnlySequence<byte>(body), typeInfo, request.InputLimits().MaxJsonDepth);
    }

    /// <summary>
    /// The body both as <typeparamref name="T"/> (to check the fields the API names) and as the whole JSON object (to
    /// keep the others); an empty body reads as <c>{}</c>.
    /// </summary>
    public static async ValueTask<(T Body, JsonElement Object)> ReadOptionalWithObjectAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, T empty)
        where T : class
    {
        var body = await ReadAllAsync(request);
        if (body.Length == 0 || body.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            using var nothing = JsonDocument.Parse("{}");
            return (empty, nothing.RootElement.Clone());
        }
        var sequence = new System.Buffers.ReadOnlySequence<byte>(body);
        var maxDepth = request.InputLimits().MaxJsonDepth;
        return (MatrixJsonBody.Deserialize(sequence, typeInfo, maxDepth), MatrixJsonBody.ParseObject(sequence, maxDepth));
    }

    /// <summary>
    /// An event content: a JSON object (M_NOT_JSON / M_BAD_JSON otherwise). Its size is bounded by the endpoints'
    /// <see cref="Limits.BodySize.Event"/> class, 65536 bytes by default, the spec's limit for a whole event.
    /// </summary>
    public static async ValueTask<JsonElement> ReadEventContentAsync(HttpRequest request)
    {
        var body = await ReadAllAsync(request);
        using var document = MatrixJsonBody.Parse(new System.Buffers.ReadOnlySequence<byte>(body), request.InputLimits().MaxJsonDepth);
        return document.RootElement.ValueKind == JsonValueKind.Object
            ? document.RootElement.Clone()
            : throw MatrixException.BadJson("The event content must be a JSON object.");
    }

    private static async ValueTask<byte[]> ReadAllAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

/// <summary>Answers with JSON bytes a grain produced, unchanged.</summary>
internal static class RoomResults
{
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    public static IResult Json(byte[] utf8Json) => Results.Bytes(utf8Json, JsonContentType.Utf8);

    public static IResult Empty() => Results.Bytes(EmptyObject, JsonContentType.Utf8);
}
