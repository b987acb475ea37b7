using HomeServer.Runtime;

namespace HomeServer.Grains.Accounts;

/// <summary>Who made a request: the user and device an access token belongs to.</summary>
public sealed record Session(string UserId, string DeviceId, bool IsAdmin);

/// <summary>One local user (key: the full user id): account, devices and access tokens, profile, account data, filters.</summary>
[GrainType("user")]
public interface IUserGrain : IGrain
{
    /// <summary>The session of a valid access token of this user, or null (unknown, revoked or deactivated).</summary>
    [Idempotent]
    Task<Session?> AuthenticateAsync(string accessToken);
}
