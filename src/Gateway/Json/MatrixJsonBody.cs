using System.Buffers;
using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Grains.Serialization;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Json;

/// <summary>
/// Reads request JSON and reports problems with the Matrix error codes. Every JSON the gateway accepts passes here, so
/// what reaches the grains can always be written out again as canonical JSON: syntax errors, invalid UTF-8 and an
/// empty body are <c>M_NOT_JSON</c>; nesting deeper than <see cref="InputLimitsOptions.MaxJsonDepth"/>, duplicate keys, unpaired
/// surrogate escapes (<c>"\ud800"</c>, which no UTF-8 can hold) and well-formed JSON of the wrong shape are
/// <c>M_BAD_JSON</c>.
/// </summary>
public static class MatrixJsonBody
{
    /// <summary>
    /// Reads the whole body (bounded by the server's request body size limit, which answers
    /// <c>M_TOO_LARGE</c>) and deserialises it.
    /// </summary>
    public static async ValueTask<T> ReadMatrixJsonAsync<T>(
        this HttpRequest request, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
        where T : class
    {
        var reader = request.BodyReader;
        var result = await reader.ReadAsync(cancellationToken);
        while (!result.IsCompleted)
        {
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await reader.ReadAsync(cancellationToken);
        }

        try
        {
            return Deserialize(result.Buffer, typeInfo, request.InputLimits().MaxJsonDepth);
        }
        finally
        {
            reader.AdvanceTo(result.Buffer.End);
        }
    }

    public static T Deserialize<T>(ReadOnlySequence<byte> body, JsonTypeInfo<T> typeInfo, int maxDepth)
        where T : class
    {
        using var document = Parse(body, maxDepth);
        T? value;
        try
        {
            value = document.Deserialize(typeInfo);
        }
        catch (JsonException exception)
        {
            throw MatrixException.BadJson(exception.Message);
        }

        return value ?? throw MatrixException.BadJson("The body must be a JSON object.");
    }

    /// <summary>The body as a JSON object, checked as described on the class.</summary>
    public static JsonElement ParseObject(ReadOnlySequence<byte> body, int maxDepth)
    {
        using var document = Parse(body, maxDepth);
        return document.RootElement.ValueKind == JsonValueKind.Object
            ? document.RootElement.Clone()
            : throw MatrixException.BadJson("The body must be a JSON object.");
    }

    /// <summary>Parses and checks the body; the caller disposes the document.</summary>
    public static JsonDocument Parse(ReadOnlySequence<byte> body, int maxDepth)
    {
        // The reader does not check the bytes inside strings, so a body that is not UTF-8 would otherwise fail later as
        // a bad shape; it is not JSON at all (RFC 8259 section 8.1), as Synapse answers.
        if (!IsUtf8(body)) throw MatrixException.NotJson("Content not JSON: the body is not valid UTF-8.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException exception)
        {
            // Only the slow path pays for the second pass that tells bad syntax from a bad shape.
            throw IsWellFormed(body)
                ? MatrixException.BadJson(IsTooDeep(body, maxDepth) ? $"JSON is nested deeper than {maxDepth} levels." : exception.Message)
                : MatrixException.NotJson();
        }
        catch (InvalidOperationException)
        {
            // The duplicate key check unescapes every key, and fails on one that names an unpaired surrogate.
            throw UnpairedSurrogate();
        }

        try
        {
            if (MayHoldEscapes(body)) RequireUnicode(document);
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private static bool IsUtf8(ReadOnlySequence<byte> body) =>
        Utf8.IsValid(body.IsSingleSegment ? body.FirstSpan : body.ToArray());

    private static bool MayHoldEscapes(ReadOnlySequence<byte> body) =>
        body.IsSingleSegment ? body.FirstSpan.IndexOf("\\u"u8) >= 0 : body.ToArray().AsSpan().IndexOf("\\u"u8) >= 0;

    /// <summary>
    /// Every string and key must unescape to valid UTF-16 (no unpaired surrogates). Writing the document unescapes each
    /// of them exactly as the grain call's serialisation later would, and fails where that would.
    /// </summary>
    private static void RequireUnicode(JsonDocument document)
    {
        try
        {
            using var writer = new Utf8JsonWriter(Stream.Null, new JsonWriterOptions { MaxDepth = StoredJson.MaxDepth });
            document.WriteTo(writer);
        }
        catch (InvalidOperationException)
        {
            throw UnpairedSurrogate();
        }
    }

    private static MatrixException UnpairedSurrogate() =>
        MatrixException.BadJson("Strings must be valid Unicode: an escape names an unpaired surrogate.");

    private static bool IsWellFormed(ReadOnlySequence<byte> body) => Scan(body, int.MaxValue, out _);

    private static bool IsTooDeep(ReadOnlySequence<byte> body, int maxDepth) => Scan(body, int.MaxValue, out var depth) && depth > maxDepth;

    /// <summary>Reads every token without a depth limit (the reader keeps no stack, so this is safe at any depth).</summary>
    private static bool Scan(ReadOnlySequence<byte> body, int maxDepth, out int deepest)
    {
        deepest = 0;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
        var tokens = 0;
        try
        {
            while (reader.Read())
            {
                tokens++;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) deepest = Math.Max(deepest, reader.CurrentDepth + 1);
            }

            // An empty (or blank) body holds no JSON value at all.
            return tokens > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
