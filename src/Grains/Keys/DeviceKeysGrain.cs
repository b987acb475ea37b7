using System.Text.Json;
using HomeServer.Grains.Delivery;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Keys;

[GrainType("device-keys")]
public sealed partial class DeviceKeysGrain(
    IHomeServerStore store, LocalServer server, ActiveSilos silos, ILogger<DeviceKeysGrain> logger, SyncDeliveryOptions? delivery = null)
    : HomeServerGrain, IDeviceKeysGrain
{
    private static CancellationToken None => CancellationToken.None;

    private DeviceListAnnouncer Announcer => new(store, GrainFactory, silos, server, delivery ?? new SyncDeliveryOptions(), logger);

    public async Task<byte[]> UploadAsync(string deviceId, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw KeyJson.BadJson("The body must be a JSON object.");
        var deviceKeys = KeyJson.OptionalObject(body, "device_keys") is { } keys ? await CheckDeviceKeysAsync(deviceId, keys) : null;
        var oneTimeKeys = KeyJson.OptionalObject(body, "one_time_keys") is { } otks ? KeyJson.OneTimeKeys(otks, "one_time_keys") : [];
        var fallbackKeys = KeyJson.OptionalObject(body, "fallback_keys") is { } fallbacks ? KeyJson.OneTimeKeys(fallbacks, "fallback_keys") : [];
        if (fallbackKeys.GroupBy(k => k.Algorithm).Any(g => g.Count() > 1))
            throw MatrixRequestException.InvalidParam("At most one fallback key per algorithm may be uploaded.");
        await RefuseChangedOneTimeKeysAsync(deviceId, oneTimeKeys);
        // This grain is the user's only writer of device keys, so nothing changes the list between this read and the upload.
        var previous = deviceKeys is null ? null : await store.Keys.GetDeviceListPositionAsync(Key, None);

        var result = await store.Keys.UploadKeysAsync(new KeyUpload(Key, deviceId, deviceKeys, oneTimeKeys, fallbackKeys), None);
        if (result.DeviceListPosition is { } position)
        {
            await Announcer.DeviceListChangedAsync(Key, position);
            var displayName = (await store.Devices.GetDevicesAsync(Key, None)).FirstOrDefault(d => d.DeviceId == deviceId)?.DisplayName;
            await Announcer.SendDeviceListUpdateAsync(Key, deviceId, position, previous, deleted: false, deviceKeys, displayName);
        }
        if (oneTimeKeys.Count > 0 || fallbackKeys.Count > 0) Announcer.OneTimeKeysChanged(Key);
        return KeyResponses.UploadResponse(result.OneTimeKeyCounts);
    }

    public async Task DeleteKeysOfRemovedDevicesAsync()
    {
        var existing = (await store.Devices.GetDevicesAsync(Key, None)).Select(d => d.DeviceId).ToHashSet(StringComparer.Ordinal);
        // Not only devices with device keys: one-time keys of a removed device must not be claimable either.
        foreach (var deviceId in (await store.Keys.GetDevicesWithKeysAsync(Key, None)).Where(d => !existing.Contains(d)))
        {
            var previous = await store.Keys.GetDeviceListPositionAsync(Key, None);
            var position = await store.Keys.DeleteDeviceKeysAsync(Key, deviceId, None);
            await Announcer.DeviceListChangedAsync(Key, position);
            await Announcer.SendDeviceListUpdateAsync(Key, deviceId, position, previous, deleted: true, keysJson: null, displayName: null);
        }
    }

    /// <summary>
    /// The device_keys object, canonical, after the spec's checks: user_id and device_id those of the uploading device,
    /// algorithms a list of strings, keys and signatures well formed. Once a device published its Ed25519 and
    /// Curve25519 identity keys it may not replace them with others (Synapse refuses this too: other devices would
    /// otherwise trust a new key under an old name).
    /// </summary>
    private async Task<string> CheckDeviceKeysAsync(string deviceId, JsonElement deviceKeys)
    {
        const string context = "device_keys";
        if (KeyJson.RequiredString(deviceKeys, "user_id", context) != Key)
            throw MatrixRequestException.InvalidParam("device_keys.user_id must be the user id of the uploading user.");
        if (KeyJson.RequiredString(deviceKeys, "device_id", context) != deviceId)
            throw MatrixRequestException.InvalidParam("device_keys.device_id must be the device id of the uploading device.");
        if (!deviceKeys.TryGetProperty("algorithms", out var algorithms) || algorithms.ValueKind != JsonValueKind.Array
            || algorithms.EnumerateArray().Any(a => a.ValueKind != JsonValueKind.String))
            throw KeyJson.BadJson("device_keys.algorithms must be a list of strings.");
        var keys = KeyJson.Keys(deviceKeys, context);
        KeyJson.Signatures(deviceKeys, context, required: true);

        if (await store.Keys.GetDeviceKeysAsync(Key, deviceId, None) is { } storedJson)
        {
            var stored = KeyJson.Keys(KeyJson.Parse(storedJson), context);
            foreach (var (name, value) in stored)
            {
                if (!IsIdentityKey(name)) continue;
                if (!keys.TryGetValue(name, out var uploaded) || uploaded != value)
                    throw MatrixRequestException.InvalidParam($"The device's identity key {name} cannot be changed.");
            }
        }
        return KeyJson.Canonical(deviceKeys);
    }

    private static bool IsIdentityKey(string name) =>
        name.StartsWith("ed25519:", StringComparison.Ordinal) || name.StartsWith("curve25519:", StringComparison.Ordinal);

    /// <summary>A one-time key id already held must come with the same key (clients retry uploads), else 400 as Synapse.</summary>
    private async Task RefuseChangedOneTimeKeysAsync(string deviceId, IReadOnlyList<UploadedKey> oneTimeKeys)
    {
        if (oneTimeKeys.Count == 0) return;
        var existing = await store.Keys.GetOneTimeKeysAsync(Key, deviceId, [.. oneTimeKeys.Select(k => k.KeyId)], None);
        foreach (var key in oneTimeKeys)
        {
            if (existing.TryGetValue(key.KeyId, out var stored) && stored != key.Json)
                throw MatrixRequestException.InvalidParam($"One-time key {key.KeyId} already exists with other content.");
        }
    }
}
