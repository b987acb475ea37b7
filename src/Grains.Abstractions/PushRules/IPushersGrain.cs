using Orleans;

namespace HomeServer.Grains.PushRules;

/// <summary>The kinds of pusher /pushers/set accepts.</summary>
public static class PusherKinds
{
    public const string Http = "http";
    public const string Email = "email";
}

/// <summary>A pusher as GET /pushers lists it.</summary>
/// <param name="Data">The pusher's data as the client gave it, a UTF-8 JSON object.</param>
[GenerateSerializer, Immutable, Alias("hs.Pusher")]
public sealed record Pusher(
    string AppId, string Pushkey, string Kind, string AppDisplayName, string DeviceDisplayName, string? ProfileTag, string Lang, byte[] Data);

/// <summary>One user's pushers (key: the full user id). Bodies are validated by the caller.</summary>
[Alias("pushers")]
public interface IPushersGrain : IGrainWithStringKey
{
    Task<IReadOnlyList<Pusher>> GetAsync();

    /// <summary>
    /// Adds or replaces the pusher of (app id, pushkey), remembering the device that set it. Unless
    /// <paramref name="append"/>, other users' pushers with the same app id and pushkey are removed.
    /// </summary>
    Task SetAsync(Pusher pusher, string? deviceId, bool append);

    /// <summary>Removes the pusher of (app id, pushkey); nothing happens if there is none.</summary>
    Task DeleteAsync(string appId, string pushkey);
}
