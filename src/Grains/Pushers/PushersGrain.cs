using HomeServer.Grains.PushRules;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Pushers;

[GrainType("pushers")]
public sealed class PushersGrain(IHomeServerStore store) : HomeServerGrain, IPushersGrain
{
    private string UserId => Key;

    public async Task<IReadOnlyList<Pusher>> GetAsync()
    {
        var stored = await store.Pushers.GetPushersAsync(UserId, CancellationToken.None);
        return stored.Select(p => new Pusher(p.AppId, p.Pushkey, p.Kind, p.AppDisplayName, p.DeviceDisplayName, p.ProfileTag, p.Lang, p.Data))
            .ToList();
    }

    public Task SetAsync(Pusher pusher, string? deviceId, bool append) =>
        store.Pushers.SetPusherAsync(
            new StoredPusher(UserId, pusher.AppId, pusher.Pushkey, pusher.Kind, pusher.AppDisplayName, pusher.DeviceDisplayName,
                pusher.ProfileTag, pusher.Lang, pusher.Data, deviceId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
            append, CancellationToken.None);

    public Task DeleteAsync(string appId, string pushkey) =>
        store.Pushers.DeletePusherAsync(UserId, appId, pushkey, CancellationToken.None);
}
