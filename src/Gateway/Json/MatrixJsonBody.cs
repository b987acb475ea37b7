using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Json;

/// <summary>Reads a request body as JSON and reports problems with the Matrix error codes.</summary>
public static class MatrixJsonBody
{
    /// <summary>
    /// Reads the whole body (bounded by the server's request body size limit, which answers
    /// <c>M_TOO_LARGE</c>) and deserialises it. Syntax errors become <c>M_NOT_JSON</c>;
    /// well-formed JSON of the wrong shape becomes <c>M_BAD_JSON</c>.
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
            return Deserialize(result.Buffer, typeInfo);
        }
        finally
        {
            reader.AdvanceTo(result.Buffer.End);
        }
    }

    public static T Deserialize<T>(ReadOnlySequence<byte> body, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        T? value;
        try
        {
            var jsonReader = new Utf8JsonReader(body);
            value = JsonSerializer.Deserialize(ref jsonReader, typeInfo);
            // Deserialize stops after the first value; anything but whitespace after it is a syntax error.
            jsonReader.Read();
        }
        catch (JsonException exception)
        {
            // Only the slow path pays for the second pass that tells bad syntax from a bad shape.
            throw IsWellFormed(body) ? MatrixException.BadJson(exception.Message) : MatrixException.NotJson();
        }

        return value ?? throw MatrixException.BadJson("The body must be a JSON object.");
    }

    private static bool IsWellFormed(ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
