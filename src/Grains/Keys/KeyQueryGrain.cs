using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Federation.Transport;
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
    IHomeServerStore store, LocalServer server, ActiveSilos silos, ILogger<KeyQueryGrain> logger, SyncDeliveryOptions? delivery = null,
    FederationClient? federation = null)
    : HomeServerGrain, IKeyQueryGrain
{
    private static CancellationToken None => CancellationToken.None;

    private RemoteKeyRequests Remote => new(federation, logger);

    /// <summary>The local users' stored keys, read once for a query.</summary>
    private sealed record LocalKeys(
        List<string> Users,
        ILookup<string, StoredDeviceKeys> DeviceKeys,
        ILookup<string, StoredCrossSigningKey> CrossSigning,
        ILookup<(string, string), KeySignature> Signatures,
        Dictionary<string, Dictionary<string, string?>> Devices);

    private async Task<LocalKeys> ReadLocalAsync(List<string> local)
    {
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
        return new LocalKeys(local, deviceKeys, crossSigning, signatures, devices);
    }

    /// <summary>The user's current devices that have keys, in device id order, with their display names.</summary>
    private static IEnumerable<(StoredDeviceKeys Keys, string? DisplayName)> DevicesWithKeys(LocalKeys keys, string userId, HashSet<string>? wanted) =>
        keys.DeviceKeys[userId].OrderBy(k => k.DeviceId, StringComparer.Ordinal)
            .Where(k => wanted is not { Count: > 0 } || wanted.Contains(k.DeviceId))
            .Where(k => keys.Devices.TryGetValue(userId, out var names) && names.ContainsKey(k.DeviceId))
            .Select(k => (k, keys.Devices[userId][k.DeviceId]));

    public async Task<byte[]> QueryAsync(string requesterUserId, JsonElement body)
    {
        var requested = ReadQuery(body);
        var local = requested.Keys.Where(server.IsLocal).ToList();
        var remoteTask = Remote.QueryAsync(requested, requested.Keys.Where(u => !server.IsLocal(u)), RemoteKeyRequests.Timeout(body));
        var keys = await ReadLocalAsync(local);
        var remote = await remoteTask;

        return KeyResponses.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("device_keys"u8);
            writer.WriteStartObject();
            foreach (var userId in local)
            {
                writer.WritePropertyName(userId);
                writer.WriteStartObject();
                foreach (var (deviceKeys, displayName) in DevicesWithKeys(keys, userId, requested[userId]))
                {
                    writer.WritePropertyName(deviceKeys.DeviceId);
                    KeyResponses.WriteKey(writer, deviceKeys.Json, keys.Signatures[(userId, deviceKeys.DeviceId)], displayName, withUnsigned: true);
                }
                writer.WriteEndObject();
            }
            WriteRemote(writer, remote.DeviceKeys);
            writer.WriteEndObject();
            writer.WritePropertyName("master_keys"u8);
            writer.WriteStartObject();
            // Signatures others made on a master key are shown to the signer only (as Synapse).
            WriteCrossSigning(writer, "master", keys, s => s.SignerUserId == s.TargetUserId || s.SignerUserId == requesterUserId);
            WriteRemote(writer, remote.MasterKeys);
            writer.WriteEndObject();
            writer.WritePropertyName("self_signing_keys"u8);
            writer.WriteStartObject();
            WriteCrossSigning(writer, "self_signing", keys, _ => true);
            WriteRemote(writer, remote.SelfSigningKeys);
            writer.WriteEndObject();
            writer.WritePropertyName("user_signing_keys"u8);
            writer.WriteStartObject();
            WriteCrossSigning(writer, "user_signing", keys with { Users = local.Where(u => u == requesterUserId).ToList() }, _ => true);
            writer.WriteEndObject();
            WriteFailures(writer, remote);
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> QueryForServerAsync(JsonElement body)
    {
        var requested = ReadQuery(body);
        RequireLocal(requested.Keys);
        var keys = await ReadLocalAsync([.. requested.Keys]);
        return KeyResponses.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("device_keys"u8);
            writer.WriteStartObject();
            foreach (var userId in keys.Users)
            {
                writer.WritePropertyName(userId);
                writer.WriteStartObject();
                foreach (var (deviceKeys, displayName) in DevicesWithKeys(keys, userId, requested[userId]))
                {
                    writer.WritePropertyName(deviceKeys.DeviceId);
                    KeyResponses.WriteKey(writer, deviceKeys.Json, keys.Signatures[(userId, deviceKeys.DeviceId)], displayName, withUnsigned: true);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WritePropertyName("master_keys"u8);
            writer.WriteStartObject();
            // Another server's users see the owner's own signatures on a master key only.
            WriteCrossSigning(writer, "master", keys, s => s.SignerUserId == s.TargetUserId);
            writer.WriteEndObject();
            writer.WritePropertyName("self_signing_keys"u8);
            writer.WriteStartObject();
            WriteCrossSigning(writer, "self_signing", keys, _ => true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetDevicesForServerAsync(string userId)
    {
        if (!UserId.TryParse(userId, out _)) throw MatrixRequestException.InvalidParam($"'{userId}' is not a valid user id.");
        RequireLocal([userId]);
        // Read first: the device list returned is at least as new as the version named.
        var streamId = await store.Keys.GetMaxDeviceListPositionAsync(None);
        var keys = await ReadLocalAsync([userId]);
        return KeyResponses.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("user_id"u8, userId);
            writer.WriteNumber("stream_id"u8, streamId);
            writer.WritePropertyName("devices"u8);
            writer.WriteStartArray();
            foreach (var (deviceKeys, displayName) in DevicesWithKeys(keys, userId, null))
            {
                writer.WriteStartObject();
                writer.WriteString("device_id"u8, deviceKeys.DeviceId);
                writer.WritePropertyName("keys"u8);
                KeyResponses.WriteKey(writer, deviceKeys.Json, keys.Signatures[(userId, deviceKeys.DeviceId)], null, withUnsigned: false);
                if (displayName is not null) writer.WriteString("device_display_name"u8, displayName);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            foreach (var (property, type) in new[] { ("master_key", "master"), ("self_signing_key", "self_signing") })
            {
                if (keys.CrossSigning[userId].FirstOrDefault(k => k.Type == type) is not { } key) continue;
                writer.WritePropertyName(property);
                KeyResponses.WriteKey(writer, key.Json, keys.Signatures[(userId, key.PublicKey)].Where(s => s.SignerUserId == userId), null, withUnsigned: false);
            }
            writer.WriteEndObject();
        });
    }

    public async Task RemoteDeviceListChangedAsync(string userId)
    {
        if (server.IsLocal(userId) || !UserId.TryParse(userId, out _)) return;
        // A user no local user shares a room with concerns nobody here.
        if (!(await store.Presence.GetRoomPeersAsync(userId, None)).Any(server.IsLocal)) return;
        var position = await store.Keys.AppendRemoteDeviceListChangeAsync(userId, None);
        await new DeviceListAnnouncer(store, GrainFactory, silos, server, delivery ?? new SyncDeliveryOptions(), logger).DeviceListChangedAsync(userId, position);
    }

    /// <summary>Another server asks only about this server's users; naming another's is a malformed request.</summary>
    private void RequireLocal(IEnumerable<string> userIds)
    {
        if (userIds.FirstOrDefault(u => !server.IsLocal(u)) is { } foreign)
            throw MatrixRequestException.InvalidParam($"{foreign} is not a user of this server.");
    }

    private static void WriteRemote(Utf8JsonWriter writer, Dictionary<string, JsonObject> entries)
    {
        foreach (var (userId, value) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(userId);
            value.WriteTo(writer);
        }
    }

    private static void WriteFailures(Utf8JsonWriter writer, RemoteKeysAnswer remote)
    {
        writer.WritePropertyName("failures"u8);
        writer.WriteStartObject();
        foreach (var (serverName, (status, message)) in remote.Failures)
        {
            writer.WritePropertyName(serverName);
            writer.WriteStartObject();
            writer.WriteNumber("status"u8, status);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void WriteCrossSigning(Utf8JsonWriter writer, string type, LocalKeys keys, Func<KeySignature, bool> visible)
    {
        foreach (var userId in keys.Users)
        {
            if (keys.CrossSigning[userId].FirstOrDefault(k => k.Type == type) is not { } key) continue;
            writer.WritePropertyName(userId);
            KeyResponses.WriteKey(writer, key.Json, keys.Signatures[(userId, key.PublicKey)].Where(visible), null, withUnsigned: false);
        }
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

    public Task<byte[]> ClaimAsync(JsonElement body) => ClaimAsync(body, forServer: false);

    public Task<byte[]> ClaimForServerAsync(JsonElement body) => ClaimAsync(body, forServer: true);

    private async Task<byte[]> ClaimAsync(JsonElement body, bool forServer)
    {
        if (body.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("The body must be a JSON object.");
        if (!body.TryGetProperty("one_time_keys", out var query) || query.ValueKind != JsonValueKind.Object)
            throw KeyJson.BadJson("one_time_keys must be an object.");
        RequireTimeout(body);
        var claims = new List<KeyClaim>();
        var remoteClaims = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var user in query.EnumerateObject())
        {
            RequireUserId(user.Name);
            if (user.Value.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("one_time_keys values must be objects.");
            if (forServer) RequireLocal([user.Name]);
            foreach (var device in user.Value.EnumerateObject())
            {
                if (device.Value.ValueKind != JsonValueKind.String) throw KeyJson.BadJson("Algorithms must be strings.");
                if (!server.IsLocal(user.Name))
                {
                    if (!remoteClaims.TryGetValue(user.Name, out var devices))
                        remoteClaims[user.Name] = devices = new Dictionary<string, string>(StringComparer.Ordinal);
                    devices[device.Name] = device.Value.GetString()!;
                    continue;
                }
                // A device id or algorithm that could not be stored names no key: nothing to claim.
                if (KeyJson.Storable(device.Name) && KeyJson.Storable(device.Value.GetString()!))
                    claims.Add(new KeyClaim(user.Name, device.Name, device.Value.GetString()!));
            }
        }
        var remoteTask = Remote.ClaimAsync(remoteClaims, RemoteKeyRequests.Timeout(body));
        var claimed = await store.Keys.ClaimKeysAsync(claims, None);
        var announcer = new DeviceListAnnouncer(store, GrainFactory, silos, server, delivery ?? new SyncDeliveryOptions(), logger);
        foreach (var owner in claimed.Select(c => c.UserId).Distinct(StringComparer.Ordinal)) announcer.OneTimeKeysChanged(owner);
        var remote = await remoteTask;
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
            WriteRemote(writer, remote.OneTimeKeys);
            writer.WriteEndObject();
            // The server-server answer has no failures: it names only this server's users.
            if (!forServer) WriteFailures(writer, remote);
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
