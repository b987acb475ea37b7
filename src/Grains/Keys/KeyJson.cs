using System.Text;
using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Serialization;
using HomeServer.Storage;

namespace HomeServer.Grains.Keys;

/// <summary>
/// The shapes of the spec's key objects (DeviceKeys, one-time and fallback keys, CrossSigningKey), checked before
/// anything is stored. Shapes that are wrong answer M_BAD_JSON; keys are kept as canonical JSON so that re-uploads
/// compare equal however the client spaced or ordered them.
/// </summary>
internal static class KeyJson
{
    public static MatrixRequestException BadJson(string error) => MatrixRequestException.BadJson(error);

    /// <summary>A property that must be a JSON object when present; null counts as absent.</summary>
    public static JsonElement? OptionalObject(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.Object ? value : throw BadJson($"{name} must be an object.");
    }

    public static string RequiredString(JsonElement owner, string name, string context)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
            throw BadJson($"{context}.{name} must be a string.");
        return value.GetString()!;
    }

    /// <summary>A key name <c>algorithm:id</c> with both parts non-empty and storable.</summary>
    public static (string Algorithm, string Id) KeyName(string name, string context)
    {
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == name.Length - 1 || !Storable(name))
            throw BadJson($"{context}: key name '{Shorten(name)}' must be '<algorithm>:<key id>'.");
        return (name[..colon], name[(colon + 1)..]);
    }

    /// <summary>The <c>signatures</c> object: user id → (<c>algorithm:key id</c> → signature string).</summary>
    public static void Signatures(JsonElement owner, string context, bool required)
    {
        if (!owner.TryGetProperty("signatures", out var signatures))
        {
            if (required) throw BadJson($"{context}.signatures is required.");
            return;
        }
        if (signatures.ValueKind != JsonValueKind.Object) throw BadJson($"{context}.signatures must be an object.");
        foreach (var byUser in signatures.EnumerateObject())
        {
            if (byUser.Value.ValueKind != JsonValueKind.Object) throw BadJson($"{context}.signatures of {Shorten(byUser.Name)} must be an object.");
            foreach (var signature in byUser.Value.EnumerateObject())
            {
                KeyName(signature.Name, $"{context}.signatures");
                if (signature.Value.ValueKind != JsonValueKind.String) throw BadJson($"{context}.signatures values must be strings.");
            }
        }
    }

    /// <summary>The <c>keys</c> object: <c>algorithm:id</c> → public key string.</summary>
    public static Dictionary<string, string> Keys(JsonElement owner, string context)
    {
        if (!owner.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Object)
            throw BadJson($"{context}.keys must be an object.");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in keys.EnumerateObject())
        {
            KeyName(key.Name, $"{context}.keys");
            if (key.Value.ValueKind != JsonValueKind.String || key.Value.GetString()!.Length == 0)
                throw BadJson($"{context}.keys values must be non-empty strings.");
            result[key.Name] = key.Value.GetString()!;
        }
        return result;
    }

    /// <summary>
    /// A one-time or fallback key map: each name <c>algorithm:id</c>, each value a key string (unsigned curve25519) or
    /// a key object with a string <c>key</c> and well-formed signatures.
    /// </summary>
    public static List<UploadedKey> OneTimeKeys(JsonElement keys, string context)
    {
        var result = new List<UploadedKey>();
        foreach (var key in keys.EnumerateObject())
        {
            var (algorithm, _) = KeyName(key.Name, context);
            switch (key.Value.ValueKind)
            {
                case JsonValueKind.String when key.Value.GetString()!.Length > 0:
                    break;
                case JsonValueKind.Object:
                    RequiredString(key.Value, "key", $"{context}.{Shorten(key.Name)}");
                    Signatures(key.Value, $"{context}.{Shorten(key.Name)}", required: false);
                    break;
                default:
                    throw BadJson($"{context}: {Shorten(key.Name)} must be a key string or a key object.");
            }
            result.Add(new UploadedKey(algorithm, key.Name, Canonical(key.Value)));
        }
        return result;
    }

    public static string Canonical(JsonElement value)
    {
        try
        {
            return Encoding.UTF8.GetString(CanonicalJson.Encode(value));
        }
        catch (CanonicalJsonException e)
        {
            throw BadJson(e.Message);
        }
    }

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json, StoredJson.DocumentOptions);
        return document.RootElement.Clone();
    }

    public static bool Storable(string value) =>
        value.Length > 0 && !value.Contains('\0') && Encoding.UTF8.GetByteCount(value) <= StoreLimits.MaxIdentifierBytes;

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
