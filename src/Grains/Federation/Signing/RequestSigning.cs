using System.Text.Json.Nodes;

namespace HomeServer.Grains.Federation.Signing;

/// <summary>
/// Signing and verifying federation requests (server-server spec, "Request Authentication"): the origin signs the
/// JSON object of <c>method</c>, <c>uri</c> (path and query as sent), <c>origin</c>, <c>destination</c> and, when the
/// request has a body, <c>content</c> (the body's JSON); the signature travels in an <c>X-Matrix</c> header.
/// </summary>
public static class RequestSigning
{
    public static JsonObject SignedObject(string method, string uri, string origin, string destination, JsonNode? content)
    {
        var json = new JsonObject
        {
            ["method"] = method,
            ["uri"] = uri,
            ["origin"] = origin,
            ["destination"] = destination,
        };
        if (content is not null) json["content"] = content.DeepClone();
        return json;
    }

    /// <summary>The <c>Authorization</c> header value for a request by <paramref name="key"/>'s server.</summary>
    public static string AuthorizationHeader(ServerSigningKey key, string destination, string method, string uri, JsonNode? content)
    {
        var json = SignedObject(method, uri, key.ServerName, destination, content);
        // Not strict: a body may carry events of older room versions, whose numbers need not be integers.
        var signature = JsonSigning.ComputeSignature(json, key, strict: false);
        return new XMatrixAuthorization(key.ServerName, destination, key.KeyId, signature).Format();
    }

    /// <summary>True when the header's signature over the request verifies with <paramref name="publicKey"/>.</summary>
    /// <param name="destination">This server's name (the header's destination, when present, must already equal it).</param>
    public static bool Verify(
        XMatrixAuthorization authorization, string method, string uri, string destination, JsonNode? content, ReadOnlySpan<byte> publicKey)
    {
        var json = SignedObject(method, uri, authorization.Origin, destination, content);
        JsonSigning.AddSignature(json, authorization.Origin, authorization.Key, authorization.Signature);
        return JsonSigning.Verify(json, authorization.Origin, authorization.Key, publicKey, strict: false);
    }
}
