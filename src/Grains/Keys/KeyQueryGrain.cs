using System.Text.Json;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Keys;

[GrainType("key-query")]
[StatelessWorker]
public sealed class KeyQueryGrain(
    IHomeServerStore store, LocalServer server, ActiveSilos silos, ILogger<KeyQueryGrain> logger, SyncDeliveryOptions? delivery = null)
    : HomeServerGrain, IKeyQueryGrain
{
    private static CancellationToken None => CancellationToken.None;

    public async Task<byte[]> QueryAsync(string requesterUserId, JsonElement body)
    {
        var requested = ReadQuery(body);
        var local = requested.Keys.Where(server.IsLocal).ToList();
        var remoteServers = requested.Keys.Where(u => !server.IsLocal(u)).Select(u => UserId.Parse(u).Server.Value)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        var deviceKeys = (await store.Keys.GetDeviceKeysAsync(local, None)).ToLookup(k => k.UserId, StringComparer.Ordinal);
        var crossSigning = (await store.Keys.GetCrossSigningKeysAsync(local, None)).ToLookup(k => k.UserId, StringComparer.Ordinal);
        var signatures = (await store.Keys.GetSignaturesAsync(local, None))
            .ToLookup(s => (s.TargetUserId, s.TargetKeyId));
        var devices = new Dictionary<string, Dictionary<string, string?>>(StringComparer.Ordinal);
        foreach (var userId in local.Where(u => deviceKeys[u].Any()))
        {
            // Only devices that still exist are listed, with the display name their owner set.
            devices[userId] = (await store.Devices.GetDevicesAsync(userId, None))
                .ToDictionary(d => d.DeviceId, d => d.DisplayName, StringComparer.Ordinal);
        }

        return KeyResponses.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("device_keys"u8);
            writer.WriteStartObject();
            foreach (var userId in local)
            {
                var wanted = requested[userId];
                writer.WritePropertyName(userId);
                writer.WriteStartObject();
                foreach (var keys in deviceKeys[userId].OrderBy(k => k.DeviceId, StringComparer.Ordinal))
                {
                    if (wanted.Count > 0 && !wanted.Contains(keys.DeviceId)) continue;
                    if (!devices.TryGetValue(userId, out var names) || !names.TryGetValue(keys.DeviceId, out var displayName)) continue;
                    writer.WritePropertyName(keys.DeviceId);
                    KeyResponses.WriteKey(writer, keys.Json, signatures[(userId, keys.DeviceId)], displayName, withUnsigned: true);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            WriteCrossSigning(writer, "master_keys", "master", local, crossSigning, signatures,
                // Signatures others made on a master key are shown to the signer only (as Synapse).
                s => s.SignerUserId == s.TargetUserId || s.SignerUserId == requesterUserId);
            WriteCrossSigning(writer, "self_signing_keys", "self_signing", local, crossSigning, signatures, _ => true);
            WriteCrossSigning(writer, "user_signing_keys", "user_signing", local.Where(u => u == requesterUserId), crossSigning, signatures, _ => true);
            writer.WritePropertyName("failures"u8);
            writer.WriteStartObject();
            foreach (var remote in remoteServers) KeyResponses.WriteUnreachable(writer, remote);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    private static void WriteCrossSigning(
        Utf8JsonWriter writer, string property, string type, IEnumerable<string> users, ILookup<string, StoredCrossSigningKey> keys,
        ILookup<(string, string), KeySignature> signatures, Func<KeySignature, bool> visible)
    {
        writer.WritePropertyName(property);
        writer.WriteStartObject();
        foreach (var userId in users)
        {
            if (keys[userId].FirstOrDefault(k => k.Type == type) is not { } key) continue;
            writer.WritePropertyName(userId);
            KeyResponses.WriteKey(writer, key.Json, signatures[(userId, key.PublicKey)].Where(visible), null, withUnsigned: false);
        }
        writer.WriteEndObject();
    }

    /// <summary>The body's device_keys: user id → device ids (an empty list asks for every device).</summary>
    private static Dictionary<string, HashSet<string>> ReadQuery(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("The body must be a JSON object.");
        if (!body.TryGetProperty("device_keys", out var query) || query.ValueKind != JsonValueKind.Object)
            throw KeyJson.BadJson("device_keys must be an object.");
        RequireTimeout(body);
        var requested = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var user in query.EnumerateObject())
        {
            RequireUserId(user.Name);
            if (user.Value.ValueKind != JsonValueKind.Array || user.Value.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.String))
                throw KeyJson.BadJson("device_keys values must be lists of device ids.");
            requested[user.Name] = user.Value.EnumerateArray().Select(d => d.GetString()!).ToHashSet(StringComparer.Ordinal);
        }
        return requested;
    }

    public async Task<byte[]> ClaimAsync(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("The body must be a JSON object.");
        if (!body.TryGetProperty("one_time_keys", out var query) || query.ValueKind != JsonValueKind.Object)
            throw KeyJson.BadJson("one_time_keys must be an object.");
        RequireTimeout(body);
        var claims = new List<KeyClaim>();
        var remoteServers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var user in query.EnumerateObject())
        {
            RequireUserId(user.Name);
            if (user.Value.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("one_time_keys values must be objects.");
            foreach (var device in user.Value.EnumerateObject())
            {
                if (device.Value.ValueKind != JsonValueKind.String) throw KeyJson.BadJson("Algorithms must be strings.");
                if (!server.IsLocal(user.Name))
                {
                    remoteServers.Add(UserId.Parse(user.Name).Server.Value);
                    continue;
                }
                // A device id or algorithm that could not be stored names no key: nothing to claim.
                if (KeyJson.Storable(device.Name) && KeyJson.Storable(device.Value.GetString()!))
                    claims.Add(new KeyClaim(user.Name, device.Name, device.Value.GetString()!));
            }
        }
        var claimed = await store.Keys.ClaimKeysAsync(claims, None);
        var announcer = new DeviceListAnnouncer(store, GrainFactory, silos, server, delivery ?? new SyncDeliveryOptions(), logger);
        foreach (var owner in claimed.Select(c => c.UserId).Distinct(StringComparer.Ordinal)) announcer.OneTimeKeysChanged(owner);
        return KeyResponses.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("one_time_keys"u8);
            writer.WriteStartObject();
            foreach (var byUser in claimed.GroupBy(c => c.UserId))
            {
                writer.WritePropertyName(byUser.Key);
                writer.WriteStartObject();
                foreach (var key in byUser)
                {
                    writer.WritePropertyName(key.DeviceId);
                    writer.WriteStartObject();
                    writer.WritePropertyName(key.KeyId);
                    writer.WriteRawValue(key.Json);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WritePropertyName("failures"u8);
            writer.WriteStartObject();
            foreach (var remote in remoteServers) KeyResponses.WriteUnreachable(writer, remote);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetChangesAsync(string requesterUserId, string from, string to)
    {
        var since = SyncToken.TryParse(from) ?? throw MatrixRequestException.InvalidParam("from is not a valid sync token.");
        var until = SyncToken.TryParse(to) ?? throw MatrixRequestException.InvalidParam("to is not a valid sync token.");
        var (changed, left) = await DeviceListDelta.BetweenAsync(store, requesterUserId, since, until, None);
        return KeyResponses.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("changed"u8);
            writer.WriteStartArray();
            foreach (var user in changed) writer.WriteStringValue(user);
            writer.WriteEndArray();
            writer.WritePropertyName("left"u8);
            writer.WriteStartArray();
            foreach (var user in left) writer.WriteStringValue(user);
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    private static void RequireUserId(string userId)
    {
        if (!UserId.TryParse(userId, out _)) throw MatrixRequestException.InvalidParam($"'{userId}' is not a valid user id.");
    }

    private static void RequireTimeout(JsonElement body)
    {
        if (body.TryGetProperty("timeout", out var timeout) && timeout.ValueKind is not (JsonValueKind.Number or JsonValueKind.Null))
            throw KeyJson.BadJson("timeout must be an integer.");
    }
}
