using System.Text.Json;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Keys;
using Orleans;

namespace HomeServer.Grains.Federation.Transactions;

/// <summary>
/// The <c>m.signing_key_update</c> EDUs of a transaction (<c>{user_id, master_key?, self_signing_key?}</c>): a user of
/// the origin changed cross-signing keys. This server keeps no copy of other servers' keys (each <c>/keys/query</c> asks
/// their server, docs/adr/0040), so the update is announced as a device-list change of the user: local users sharing a
/// room with them see it in <c>device_lists.changed</c> and query the new keys. An update naming keys of another user,
/// or a user of another server, is ignored. See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
public static class InboundSigningKeyEdus
{
    public const string EduType = "m.signing_key_update";

    /// <summary>The users of <paramref name="origin"/> whose well-formed signing key updates the transaction holds, each once.</summary>
    public static IReadOnlyList<string> Parse(string origin, byte[] body)
    {
        var users = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("edus", out var edus) || edus.ValueKind != JsonValueKind.Array)
                return [];
            foreach (var edu in edus.EnumerateArray())
            {
                if (edu.ValueKind != JsonValueKind.Object || String(edu, "edu_type") != EduType
                    || !edu.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object
                    || String(content, "user_id") is not { } userId
                    || !UserId.TryParse(userId, out var user) || user.Server.ToString() != origin)
                    continue;
                if (!KeyOf(content, "master_key", userId) || !KeyOf(content, "self_signing_key", userId)) continue;
                if (!users.Contains(userId)) users.Add(userId);
            }
        }
        catch (JsonException)
        {
            return [];
        }
        return users;
    }

    public static async Task ReceiveAsync(IGrainFactory grains, string origin, byte[] body)
    {
        foreach (var userId in Parse(origin, body))
            await grains.GetGrain<IKeyQueryGrain>("local").RemoteDeviceListChangedAsync(userId);
    }

    /// <summary>True when the key is absent, or an object of the user.</summary>
    private static bool KeyOf(JsonElement content, string name, string userId) =>
        !content.TryGetProperty(name, out var key)
        || (key.ValueKind == JsonValueKind.Object && String(key, "user_id") == userId);

    private static string? String(JsonElement json, string key) =>
        json.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
