using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;

namespace HomeServer.Grains.Federation.Keys;

/// <summary>
/// Another server's answer to <c>GET /_matrix/key/v2/server</c>, checked: it names the server asked, each of its
/// <c>verify_keys</c> is a 32-byte Ed25519 key that signed the answer, and <c>valid_until_ts</c> is capped at 7 days
/// after it was fetched (the spec: servers use the lesser of the two).
/// </summary>
public sealed class RemoteServerKeys
{
    public static readonly TimeSpan MaxValidity = TimeSpan.FromDays(7);

    private readonly Dictionary<string, byte[]> _verifyKeys;
    private readonly Dictionary<string, (byte[] Key, long ExpiredTs)> _oldKeys;

    private RemoteServerKeys(JsonObject response, Dictionary<string, byte[]> verifyKeys, Dictionary<string, (byte[], long)> oldKeys, long validUntilTs, long publishedValidUntilTs)
    {
        Response = response;
        _verifyKeys = verifyKeys;
        _oldKeys = oldKeys;
        ValidUntilTs = validUntilTs;
        PublishedValidUntilTs = publishedValidUntilTs;
    }

    /// <summary>The answer as the server signed it, for the notary to pass on.</summary>
    public JsonObject Response { get; }

    /// <summary>Until when the current keys may be used: the published time, at most 7 days after fetching.</summary>
    public long ValidUntilTs { get; }

    public long PublishedValidUntilTs { get; }

    public IReadOnlyCollection<string> VerifyKeyIds => _verifyKeys.Keys;

    /// <summary>
    /// The public key of <paramref name="keyId"/> if it may verify something signed at <paramref name="atTs"/>: a
    /// current key up to <see cref="ValidUntilTs"/>, an old key before its <c>expired_ts</c>.
    /// </summary>
    public byte[]? KeyValidAt(string keyId, long atTs)
    {
        if (_verifyKeys.TryGetValue(keyId, out var key)) return atTs <= ValidUntilTs ? key : null;
        return _oldKeys.TryGetValue(keyId, out var old) && atTs < old.ExpiredTs ? old.Key : null;
    }

    /// <summary>Checks an answer of <paramref name="serverName"/> fetched at <paramref name="fetchedTs"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, string serverName, long fetchedTs, [NotNullWhen(true)] out RemoteServerKeys? keys, out string error)
    {
        keys = null;
        JsonObject response;
        try
        {
            if (JsonNode.Parse(body) is not JsonObject parsed) return Fail("the answer is not a JSON object", out error);
            response = parsed;
        }
        catch (JsonException)
        {
            return Fail("the answer is not JSON", out error);
        }

        if (StringOf(response["server_name"]) != serverName) return Fail("server_name is not the server asked", out error);
        if (!LongOf(response["valid_until_ts"], out var publishedValidUntil)) return Fail("valid_until_ts is missing", out error);
        if (response["verify_keys"] is not JsonObject verifyKeysJson || verifyKeysJson.Count == 0)
            return Fail("verify_keys is missing or empty", out error);

        var verifyKeys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (keyId, value) in verifyKeysJson)
        {
            if (!ServerSigningKey.IsValidKeyId(keyId) || !TryKey(value, out var key)) return Fail($"verify key {keyId} is malformed", out error);
            if (!JsonSigning.Verify(response, serverName, keyId, key)) return Fail($"the answer is not signed by {keyId}", out error);
            verifyKeys[keyId] = key;
        }

        var oldKeys = new Dictionary<string, (byte[], long)>(StringComparer.Ordinal);
        if (response["old_verify_keys"] is JsonObject oldKeysJson)
        {
            foreach (var (keyId, value) in oldKeysJson)
            {
                if (ServerSigningKey.IsValidKeyId(keyId) && TryKey(value, out var key) && LongOf(value?["expired_ts"], out var expiredTs))
                    oldKeys[keyId] = (key, expiredTs);
            }
        }

        var cap = fetchedTs + (long)MaxValidity.TotalMilliseconds;
        keys = new RemoteServerKeys(response, verifyKeys, oldKeys, Math.Min(publishedValidUntil, cap), publishedValidUntil);
        error = "";
        return true;
    }

    private static bool TryKey(JsonNode? value, out byte[] key)
    {
        key = [];
        return UnpaddedBase64.TryDecode(StringOf(value?["key"]), out key) && key.Length == 32;
    }

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static bool LongOf(JsonNode? node, out long number)
    {
        number = 0;
        return node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out number);
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
