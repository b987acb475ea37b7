using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using NSec.Cryptography;

namespace HomeServer.Grains.Federation.Signing;

/// <summary>
/// The spec's "Signing JSON": Ed25519 over the canonical JSON of the object without <c>signatures</c> and
/// <c>unsigned</c>; the signature goes under <c>signatures.{server}.{key id}</c> in unpadded base64, beside any
/// signatures already there.
/// </summary>
public static class JsonSigning
{
    /// <summary>Adds the key's signature to <paramref name="json"/> (in place) and returns it.</summary>
    /// <param name="strict">False for events of room versions 1-5, whose canonical JSON may hold non-integer numbers.</param>
    /// <exception cref="CanonicalJsonException">The object cannot be encoded as canonical JSON.</exception>
    public static JsonObject Sign(JsonObject json, ServerSigningKey key, bool strict = true)
    {
        var signature = ComputeSignature(json, key, strict);
        AddSignature(json, key.ServerName, key.KeyId, signature);
        return json;
    }

    /// <summary>The unpadded base64 signature of the object by the key, without changing the object.</summary>
    public static string ComputeSignature(JsonObject json, ServerSigningKey key, bool strict = true) =>
        UnpaddedBase64.Encode(key.Sign(SignedBytes(json, strict)));

    /// <summary>Puts a signature under <c>signatures.{server}.{key id}</c>, keeping the others.</summary>
    public static void AddSignature(JsonObject json, string server, string keyId, string signature)
    {
        if (json["signatures"] is not JsonObject signatures)
            json["signatures"] = signatures = new JsonObject();
        if (signatures[server] is not JsonObject byServer)
            signatures[server] = byServer = new JsonObject();
        byServer[keyId] = signature;
    }

    /// <summary>The canonical JSON that a signature covers: the object without <c>signatures</c> and <c>unsigned</c>.</summary>
    public static byte[] SignedBytes(JsonObject json, bool strict = true)
    {
        var copy = new JsonObject();
        foreach (var (name, value) in json)
        {
            if (name is "signatures" or "unsigned") continue;
            copy[name] = value?.DeepClone();
        }
        return CanonicalJson.Encode(copy, strict);
    }

    /// <summary>The signature of <paramref name="server"/> with <paramref name="keyId"/> carried by the object, or null.</summary>
    public static string? SignatureOf(JsonObject json, string server, string keyId) =>
        json["signatures"] is JsonObject signatures
        && signatures[server] is JsonObject byServer
        && byServer[keyId] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : null;

    /// <summary>
    /// True when the object carries a signature of <paramref name="server"/> with <paramref name="keyId"/> that
    /// <paramref name="publicKey"/> (32 bytes, Ed25519) verifies; false when it is missing, malformed or wrong, or the
    /// object is not canonical JSON.
    /// </summary>
    public static bool Verify(JsonObject json, string server, string keyId, ReadOnlySpan<byte> publicKey, bool strict = true)
    {
        if (SignatureOf(json, server, keyId) is not { } signature
            || !UnpaddedBase64.TryDecode(signature, out var signatureBytes)
            || !PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key))
            return false;
        byte[] signed;
        try
        {
            signed = SignedBytes(json, strict);
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
        return SignatureAlgorithm.Ed25519.Verify(key!, signed, signatureBytes);
    }
}
