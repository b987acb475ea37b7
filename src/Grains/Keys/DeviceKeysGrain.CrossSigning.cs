using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Keys;

public sealed partial class DeviceKeysGrain
{
    private static readonly string[] CrossSigningTypes = ["master", "self_signing", "user_signing"];

    public async Task<bool> HasCrossSigningKeysAsync() =>
        (await store.Keys.GetCrossSigningKeysAsync([Key], None)).Any(k => k.Type == "master");

    /// <summary>
    /// Stores the uploaded master, self-signing and user-signing keys. Each must be the user's, carry its usage and
    /// exactly one Ed25519 key named after its public key; the self-signing and user-signing keys must be signed by the
    /// master key (the one uploaded with them, else the stored one), as Synapse checks.
    /// </summary>
    public async Task UploadCrossSigningKeysAsync(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("The body must be a JSON object.");
        var uploaded = new Dictionary<string, (JsonElement Key, string PublicKey)>(StringComparer.Ordinal);
        foreach (var type in CrossSigningTypes)
        {
            if (KeyJson.OptionalObject(body, type + "_key") is { } key) uploaded[type] = (key, CheckCrossSigningKey(key, type));
        }
        if (uploaded.Count == 0) return;

        string masterPublicKey;
        if (uploaded.TryGetValue("master", out var master))
        {
            masterPublicKey = master.PublicKey;
        }
        else
        {
            var stored = (await store.Keys.GetCrossSigningKeysAsync([Key], None)).FirstOrDefault(k => k.Type == "master")
                ?? throw new MatrixRequestException("M_MISSING_PARAM", "A master key must be uploaded first.");
            masterPublicKey = stored.PublicKey;
        }
        foreach (var type in new[] { "self_signing", "user_signing" })
        {
            if (uploaded.TryGetValue(type, out var key) && !Ed25519Signatures.IsSignedBy(key.Key, Key, masterPublicKey, masterPublicKey))
                throw InvalidSignature($"The {type} key is not signed by the master key.");
        }

        var keys = uploaded.Select(u => new NewCrossSigningKey(u.Key, u.Value.PublicKey, KeyJson.Canonical(u.Value.Key))).ToList();
        var position = await store.Keys.SetCrossSigningKeysAsync(Key, keys, None);
        await Announcer.DeviceListChangedAsync(Key, position);
        await Announcer.SendSigningKeyUpdateAsync(Key, keys); // other servers sharing a room (docs/adr/0045)
    }

    private string CheckCrossSigningKey(JsonElement key, string type)
    {
        var context = type + "_key";
        if (KeyJson.RequiredString(key, "user_id", context) != Key)
            throw MatrixRequestException.InvalidParam($"{context}.user_id must be the user id of the uploading user.");
        if (!key.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Array
            || usage.EnumerateArray().Any(u => u.ValueKind != JsonValueKind.String))
            throw KeyJson.BadJson($"{context}.usage must be a list of strings.");
        if (!usage.EnumerateArray().Any(u => u.GetString() == type))
            throw MatrixRequestException.InvalidParam($"{context}.usage must contain {type}.");
        var keys = KeyJson.Keys(key, context);
        KeyJson.Signatures(key, context, required: false);
        var (name, publicKey) = keys.Count == 1 ? keys.Single() : default;
        if (keys.Count != 1 || name != "ed25519:" + publicKey)
            throw MatrixRequestException.InvalidParam($"{context}.keys must hold one Ed25519 key named after its public key.");
        return publicKey;
    }

    /// <summary>
    /// Stores the signatures the user made: of its own devices by its self-signing key, of its own master key by one of
    /// its devices, and of other users' master keys by its user-signing key. Each signed object must be the stored key
    /// (signatures aside) and each signature must verify; a failure is reported for that key alone.
    /// </summary>
    public async Task<byte[]> UploadSignaturesAsync(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("The body must be a JSON object.");
        foreach (var user in body.EnumerateObject())
        {
            if (user.Value.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("Each user's signed keys must be an object.");
            foreach (var signed in user.Value.EnumerateObject())
            {
                if (signed.Value.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("Each signed key must be an object.");
            }
        }
        var targets = body.EnumerateObject().Select(u => u.Name).Where(KeyJson.Storable).Append(Key).Distinct(StringComparer.Ordinal).ToList();
        var crossSigning = (await store.Keys.GetCrossSigningKeysAsync(targets, None)).ToLookup(k => k.UserId, StringComparer.Ordinal);
        var mine = crossSigning[Key].ToDictionary(k => k.Type, StringComparer.Ordinal);

        var accepted = new List<KeySignature>();
        var failures = new List<(string UserId, string KeyId, int Status, string ErrCode, string Message)>();
        foreach (var user in body.EnumerateObject())
        {
            foreach (var signed in user.Value.EnumerateObject())
            {
                try
                {
                    accepted.Add(await CheckSignatureAsync(user.Name, signed.Name, signed.Value, mine, crossSigning));
                }
                catch (MatrixRequestException e)
                {
                    failures.Add((user.Name, signed.Name, e.ErrCode == "M_NOT_FOUND" ? 404 : 400, e.ErrCode, e.Error));
                }
            }
        }
        if (accepted.Count > 0)
        {
            // The last position covers every target's change: a notice only says "newer than your token".
            var position = await store.Keys.AddSignaturesAsync(accepted, None);
            foreach (var target in accepted.Select(s => s.TargetUserId).Distinct(StringComparer.Ordinal))
                await Announcer.DeviceListChangedAsync(target, position, alsoTell: Key);
        }
        return KeyResponses.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("failures"u8);
            writer.WriteStartObject();
            foreach (var byUser in failures.GroupBy(f => f.UserId))
            {
                writer.WritePropertyName(byUser.Key);
                writer.WriteStartObject();
                foreach (var failure in byUser)
                {
                    writer.WritePropertyName(failure.KeyId);
                    writer.WriteStartObject();
                    writer.WriteNumber("status"u8, failure.Status);
                    writer.WriteString("errcode"u8, failure.ErrCode);
                    writer.WriteString("message"u8, failure.Message);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    private async Task<KeySignature> CheckSignatureAsync(
        string targetUserId, string keyId, JsonElement signed, IReadOnlyDictionary<string, StoredCrossSigningKey> mine,
        ILookup<string, StoredCrossSigningKey> crossSigning)
    {
        if (!KeyJson.Storable(targetUserId) || !KeyJson.Storable(keyId)) throw MatrixRequestException.NotFound("Unknown key.");
        string storedJson;
        string signerKey;
        if (targetUserId == Key && mine.TryGetValue("master", out var ownMaster) && ownMaster.PublicKey == keyId)
        {
            // The user's master key signed by one of its devices (the signatures it already carries may come along).
            storedJson = ownMaster.Json;
            signerKey = "";
            foreach (var candidate in SignerKeys(signed).Where(k => k.StartsWith("ed25519:", StringComparison.Ordinal) && k != "ed25519:" + keyId))
            {
                if (await store.Keys.GetDeviceKeysAsync(Key, candidate["ed25519:".Length..], None) is not { } deviceJson) continue;
                if (KeyJson.Keys(KeyJson.Parse(deviceJson), "device_keys").TryGetValue(candidate, out var devicePublicKey)
                    && Ed25519Signatures.Verify(signed, devicePublicKey, Ed25519Signatures.SignatureOf(signed, Key, candidate)!))
                {
                    signerKey = candidate;
                    break;
                }
            }
            if (signerKey.Length == 0) throw InvalidSignature("The master key carries no valid signature of one of the user's devices.");
        }
        else if (targetUserId == Key)
        {
            // One of the user's devices signed by its self-signing key.
            storedJson = await store.Keys.GetDeviceKeysAsync(Key, keyId, None) ?? throw MatrixRequestException.NotFound("Unknown device.");
            if (!mine.TryGetValue("self_signing", out var selfSigning)) throw InvalidSignature("No self-signing key is uploaded.");
            signerKey = "ed25519:" + selfSigning.PublicKey;
            if (!Ed25519Signatures.IsSignedBy(signed, Key, selfSigning.PublicKey, selfSigning.PublicKey))
                throw InvalidSignature("The device is not validly signed by the self-signing key.");
        }
        else
        {
            // Another user's master key signed by the user's user-signing key.
            var master = crossSigning[targetUserId].FirstOrDefault(k => k.Type == "master");
            if (master is null || master.PublicKey != keyId) throw MatrixRequestException.NotFound("Unknown master key.");
            storedJson = master.Json;
            if (!mine.TryGetValue("user_signing", out var userSigning)) throw InvalidSignature("No user-signing key is uploaded.");
            signerKey = "ed25519:" + userSigning.PublicKey;
            if (!Ed25519Signatures.IsSignedBy(signed, Key, userSigning.PublicKey, userSigning.PublicKey))
                throw InvalidSignature("The master key is not validly signed by the user-signing key.");
        }
        if (Unsigned(signed) != Unsigned(KeyJson.Parse(storedJson)))
            throw InvalidSignature("The signed object is not the stored key.");
        return new KeySignature(targetUserId, keyId, Key, signerKey, Ed25519Signatures.SignatureOf(signed, Key, signerKey)!);
    }

    private IEnumerable<string> SignerKeys(JsonElement signed) =>
        signed.TryGetProperty("signatures", out var signatures) && signatures.ValueKind == JsonValueKind.Object
        && signatures.TryGetProperty(Key, out var byUser) && byUser.ValueKind == JsonValueKind.Object
            ? byUser.EnumerateObject().Select(p => p.Name)
            : [];

    private static string Unsigned(JsonElement value)
    {
        try
        {
            return Ed25519Signatures.Unsigned(value);
        }
        catch (CanonicalJsonException)
        {
            throw InvalidSignature("The signed object is not valid canonical JSON.");
        }
    }

    private static MatrixRequestException InvalidSignature(string error) => new("M_INVALID_SIGNATURE", error);
}
