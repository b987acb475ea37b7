using System.Security.Cryptography;
using System.Text;
using HomeServer.Grains.Accounts;
using HomeServer.Runtime;
using HomeServer.Storage;

namespace HomeServer.Grains.Accounts;

/// <summary>
/// One local user. Valid access tokens are remembered (by SHA-256) after the first lookup so that authenticating
/// a request costs no database round trip; this grain is the only writer of the user's tokens, so it forgets
/// them whenever it revokes.
/// </summary>
public sealed class UserGrain(IHomeServerStore store) : Grain, IUserGrain
{
    private readonly Dictionary<string, Session> _sessionsByTokenHash = new(StringComparer.Ordinal);

    public async Task<Session?> AuthenticateAsync(string accessToken)
    {
        var hash = TokenHash(accessToken);
        if (_sessionsByTokenHash.TryGetValue(hash, out var cached)) return cached;
        var owner = await store.Devices.FindAccessTokenOwnerAsync(accessToken, CancellationToken.None);
        if (owner is null || owner.UserId != Key) return null;
        var account = await store.Accounts.GetAccountAsync(Key, CancellationToken.None);
        if (account is null || account.Deactivated) return null;
        var session = new Session(owner.UserId, owner.DeviceId, account.IsAdmin);
        _sessionsByTokenHash[hash] = session;
        return session;
    }

    /// <summary>Forgets cached sessions of one device, or of all devices; call after revoking tokens in the store.</summary>
    internal void ForgetSessions(string? deviceId)
    {
        foreach (var (hash, session) in _sessionsByTokenHash.ToArray())
        {
            if (deviceId is null || session.DeviceId == deviceId) _sessionsByTokenHash.Remove(hash);
        }
    }

    private static string TokenHash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
