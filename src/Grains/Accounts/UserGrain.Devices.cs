using HomeServer.Grains.Keys;
using HomeServer.Storage;

namespace HomeServer.Grains.Accounts;

public sealed partial class UserGrain
{
    public async Task<IReadOnlyList<DeviceInfo>> GetDevicesAsync()
    {
        if (_account is null) return [];
        var devices = await store.Devices.GetDevicesAsync(Key, None);
        return [.. devices.Select(ToInfo)];
    }

    public async Task<DeviceInfo?> GetDeviceAsync(string deviceId)
    {
        if (_account is null || !AccountInput.IsIdentifier(deviceId)) return null;
        var device = await store.Devices.GetDeviceAsync(Key, deviceId, None);
        return device is null ? null : ToInfo(device);
    }

    public async Task<bool> RenameDeviceAsync(string deviceId, string? displayName)
    {
        ProfileLimits.RequireDeviceDisplayName(displayName);
        if (_account is null || !AccountInput.IsIdentifier(deviceId)) return false;
        return await store.Devices.SetDeviceDisplayNameAsync(Key, deviceId, displayName, None);
    }

    public async Task DeleteDevicesAsync(IReadOnlyList<string> deviceIds)
    {
        if (_account is null) return;
        // Ids that cannot be stored cannot name a device either.
        foreach (var deviceId in deviceIds.Where(AccountInput.IsIdentifier).Distinct(StringComparer.Ordinal))
        {
            await store.Devices.DeleteDeviceAsync(Key, deviceId, None);
            // To-device: a deleted device's queued messages go with it.
            await store.ToDevice.DeleteDeviceInboxAsync(Key, deviceId, None);
            ForgetSessions(deviceId);
        }
        await DeleteKeysOfRemovedDevicesAsync();
    }

    public async Task DeleteAllDevicesAsync()
    {
        if (_account is null) return;
        await store.Devices.DeleteAllDevicesAsync(Key, exceptDeviceId: null, None);
        // To-device: the deleted devices' queued messages go with them.
        await store.ToDevice.DeleteUserInboxesAsync(Key, exceptDeviceId: null, None);
        ForgetSessions(deviceId: null);
        await DeleteKeysOfRemovedDevicesAsync();
    }

    /// <summary>End-to-end keys: deleted devices' keys go and their owner's device list changes (the device-keys grain).</summary>
    private Task DeleteKeysOfRemovedDevicesAsync() => GrainFactory.GetGrain<IDeviceKeysGrain>(Key).DeleteKeysOfRemovedDevicesAsync();

    private static DeviceInfo ToInfo(Device device) => new(device.DeviceId, device.DisplayName, device.LastSeenTs, device.LastSeenIp);
}
