using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using NSec.Cryptography;

namespace HomeServer.Server.Tests.Keys;

/// <summary>An Ed25519 key pair as a client holds it, signing JSON the spec's way.</summary>
public sealed class SigningKey : IDisposable
{
    private readonly Key _key = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    public string PublicKey { get; }

    public SigningKey() => PublicKey = Unpadded(_key.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    /// <summary>Adds <c>signatures[userId]["ed25519:" + keyId]</c> over the canonical JSON of the object without signatures and unsigned.</summary>
    public JsonObject Sign(JsonObject value, string userId, string keyId)
    {
        var unsigned = (JsonObject)value.DeepClone();
        unsigned.Remove("signatures");
        unsigned.Remove("unsigned");
        var signature = Unpadded(SignatureAlgorithm.Ed25519.Sign(_key, CanonicalJson.Encode(unsigned)));
        if (value["signatures"] is not JsonObject signatures) value["signatures"] = signatures = [];
        if (signatures[userId] is not JsonObject byUser) signatures[userId] = byUser = [];
        byUser["ed25519:" + keyId] = signature;
        return value;
    }

    public static string Unpadded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    public void Dispose() => _key.Dispose();
}

/// <summary>The /keys endpoints as a client calls them, on a real server per test.</summary>
public abstract class KeysTestBase : SyncTestBase
{
    internal const string Password = "correct horse battery staple";

    internal static string Curve(string deviceId) => "curve25519:" + deviceId;

    /// <summary>Signed device keys of the user's device, as matrix-js-sdk uploads them.</summary>
    internal static JsonObject DeviceKeys(SyncUser user, SigningKey ed25519, string curve25519 = "curveKeyOfTheDevice0000000000000000000000000", string? deviceId = null)
    {
        deviceId ??= user.DeviceId;
        var keys = new JsonObject
        {
            ["user_id"] = user.UserId,
            ["device_id"] = deviceId,
            ["algorithms"] = new JsonArray("m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"),
            ["keys"] = new JsonObject { [Curve(deviceId)] = curve25519, ["ed25519:" + deviceId] = ed25519.PublicKey },
        };
        return ed25519.Sign(keys, user.UserId, deviceId);
    }

    /// <summary>Signed one-time keys named signed_curve25519:{prefix}{i}.</summary>
    internal static JsonObject OneTimeKeys(SyncUser user, SigningKey ed25519, string prefix, int count, bool fallback = false)
    {
        var keys = new JsonObject();
        for (var i = 0; i < count; i++)
        {
            var key = new JsonObject { ["key"] = $"otk-{prefix}-{i}" };
            if (fallback) key["fallback"] = true;
            keys[$"signed_curve25519:{prefix}{i}"] = ed25519.Sign(key, user.UserId, user.DeviceId);
        }
        return keys;
    }

    internal static async Task<JsonElement> OkAsync(SyncUser user, HttpMethod method, string path, JsonNode? body)
    {
        var response = await user.SendAsync(method, "/_matrix/client/v3" + path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    internal async Task FailsAsync(SyncUser user, HttpMethod method, string path, string json, HttpStatusCode status, string errcode)
    {
        var request = new HttpRequestMessage(method, "/_matrix/client/v3" + path);
        if (json.Length > 0) request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.AccessToken);
        var response = await Server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{method} {path} {json}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal(errcode, JsonDocument.Parse(text).RootElement.GetProperty("errcode").GetString());
    }

    internal static Task<JsonElement> UploadAsync(SyncUser user, JsonObject body) => OkAsync(user, HttpMethod.Post, "/keys/upload", body);

    internal static Task<JsonElement> QueryAsync(SyncUser user, params string[] userIds)
    {
        var query = new JsonObject();
        foreach (var userId in userIds) query[userId] = new JsonArray();
        return OkAsync(user, HttpMethod.Post, "/keys/query", new JsonObject { ["device_keys"] = query });
    }

    internal static Task<JsonElement> ClaimAsync(SyncUser user, JsonObject oneTimeKeys) =>
        OkAsync(user, HttpMethod.Post, "/keys/claim", new JsonObject { ["one_time_keys"] = oneTimeKeys });

    internal static int Count(JsonElement counts, string algorithm = "signed_curve25519") =>
        counts.TryGetProperty(algorithm, out var count) ? count.GetInt32() : 0;

    /// <summary>The current one-time key counts of the user's device (an empty upload answers them).</summary>
    internal static async Task<JsonElement> CountsAsync(SyncUser user) =>
        (await UploadAsync(user, [])).GetProperty("one_time_key_counts");

    /// <summary>Logs the user in again: a second device of the same account.</summary>
    internal async Task<SyncUser> LogInAgainAsync(SyncUser user, string deviceId)
    {
        var response = await Server.Client.PostAsJsonAsync("/_matrix/client/v3/login", new
        {
            type = "m.login.password",
            identifier = new { type = "m.id.user", user = user.UserId },
            password = Password,
            device_id = deviceId,
            initial_device_display_name = $"{deviceId} display name",
        });
        Assert.True(response.IsSuccessStatusCode, $"login: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var login = await response.ReadJsonAsync();
        return new SyncUser(Server.Client, user.UserId, login.GetProperty("device_id").GetString()!, login.GetProperty("access_token").GetString()!);
    }
}
