using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using NSec.Cryptography;

namespace HomeServer.Grains.Keys;

/// <summary>
/// The spec's "Signing JSON": a signature is Ed25519 over the canonical JSON of the object without its
/// <c>signatures</c> and <c>unsigned</c> properties; keys and signatures are unpadded base64.
/// </summary>
internal static class Ed25519Signatures
{
    /// <summary>Whether <paramref name="signed"/> carries a valid signature of <paramref name="userId"/> by the key named
    /// <c>ed25519:</c><paramref name="keyId"/> whose public key is <paramref name="publicKey"/>.</summary>
    public static bool IsSignedBy(JsonElement signed, string userId, string keyId, string publicKey) =>
        SignatureOf(signed, userId, "ed25519:" + keyId) is { } signature && Verify(signed, publicKey, signature);

    public static string? SignatureOf(JsonElement signed, string userId, string keyName) =>
        signed.TryGetProperty("signatures", out var signatures) && signatures.ValueKind == JsonValueKind.Object
        && signatures.TryGetProperty(userId, out var byUser) && byUser.ValueKind == JsonValueKind.Object
        && byUser.TryGetProperty(keyName, out var signature) && signature.ValueKind == JsonValueKind.String
            ? signature.GetString()
            : null;

    public static bool Verify(JsonElement signed, string publicKey, string signature)
    {
        if (!TryDecode(publicKey, out var keyBytes) || !TryDecode(signature, out var signatureBytes)) return false;
        if (!PublicKey.TryImport(SignatureAlgorithm.Ed25519, keyBytes, KeyBlobFormat.RawPublicKey, out var key)) return false;
        try
        {
            return SignatureAlgorithm.Ed25519.Verify(key!, SignedBytes(signed), signatureBytes);
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
    }

    /// <summary>The canonical JSON that was signed: the object without signatures and unsigned.</summary>
    public static byte[] SignedBytes(JsonElement signed)
    {
        var node = JsonObject.Create(signed)!;
        node.Remove("signatures");
        node.Remove("unsigned");
        return CanonicalJson.Encode(node);
    }

    /// <summary>The object without signatures and unsigned, canonical, for comparing what was signed with what is stored.</summary>
    public static string Unsigned(JsonElement value) => Encoding.UTF8.GetString(SignedBytes(value));

    private static bool TryDecode(string unpadded, out byte[] bytes)
    {
        bytes = [];
        if (unpadded.Length % 4 == 1) return false;
        var padded = unpadded.Length % 4 == 0 ? unpadded : unpadded + new string('=', 4 - unpadded.Length % 4);
        var buffer = new byte[padded.Length * 3 / 4];
        if (!Convert.TryFromBase64String(padded, buffer, out var written)) return false;
        bytes = buffer[..written];
        return true;
    }
}
