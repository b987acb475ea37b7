using HomeServer.Grains.Accounts;
using Orleans;

namespace HomeServer.Grains.Federation;

/// <summary>
/// The profile of one user of another server (key: the user id), asked of that server with
/// <c>GET /_matrix/federation/v1/query/profile</c> and kept for a short while.
/// </summary>
[Alias("remote-profile")]
public interface IRemoteProfileGrain : IGrainWithStringKey
{
    /// <summary>
    /// The profile; null if the user's server says it has no such user or profile. A server that cannot be reached or
    /// answers otherwise fails with <see cref="RemoteServerFailure"/>.
    /// </summary>
    Task<UserProfile?> GetAsync();
}
