using System.Security.Cryptography;
using System.Text;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Accounts;

/// <summary>
/// One local user. The account row is read once at activation and kept current by this grain, its only writer.
/// Valid access tokens are remembered (by SHA-256) after the first lookup so that authenticating a request costs
/// no database round trip; the grain forgets them whenever it revokes tokens.
/// </summary>
[GrainType("user")]
public sealed partial class UserGrain(IHomeServerStore store, LocalServer localServer, ILogger<UserGrain> logger) : HomeServerGrain, IUserGrain
{
    private readonly Dictionary<string, Session> _sessionsByTokenHash = new(StringComparer.Ordinal);
    private Account? _account;

    private static CancellationToken None => CancellationToken.None;

    protected override async Task ActivateAsync(CancellationToken cancellationToken)
    {
        // Keys come from access tokens and URLs: only a local user id can name an account.
        if (IsLocalUserId(Key)) _account = await store.Accounts.GetAccountAsync(Key, cancellationToken);
        if (_account is { Deactivated: true }) ResumeDeactivation();
    }

    public async Task<Session?> AuthenticateAsync(string accessToken)
    {
        var hash = TokenHash(accessToken);
        if (_sessionsByTokenHash.TryGetValue(hash, out var cached)) return cached;
        if (_account is not { Deactivated: false } || !AccountInput.IsText(accessToken, StoreLimits.MaxAccessTokenBytes)) return null;
        var owner = await store.Devices.FindAccessTokenOwnerAsync(accessToken, None);
        if (owner is null || owner.UserId != Key) return null;
        // Only tokens issued with a refresh token expire. The first use of one issued by /refresh retires the
        // refresh token it replaced (the spec's rotation); the grain remembers the session, so that happens once.
        if (owner.ExpiresTs is not null) await store.Devices.RevokeReplacedRefreshTokenAsync(accessToken, None);
        var session = new Session(
            owner.UserId, owner.DeviceId, _account.IsAdmin, _account.IsGuest, owner.ExpiresTs, _account.Locked, _account.Suspended);
        _sessionsByTokenHash[hash] = session;
        return session;
    }

    public Task<bool> ExistsAsync() => Task.FromResult(_account is not null);

    public async Task<LoginResult?> RegisterAsync(AccountRegistration registration)
    {
        if (!IsLocalUserId(Key) || !UserId.Parse(Key).IsCompliant)
            throw new MatrixRequestException("M_INVALID_USERNAME", "The user id is not a valid local user id.");
        if (_account is not null) throw UserInUse();
        RequirePasswordHash(registration.PasswordHash);
        var displayName = ProfileLimits.RequireDisplayName(registration.DisplayName ?? UserId.Parse(Key).Localpart);
        var login = registration.Login is null ? null : CheckLogin(registration.Login);

        var now = Now();
        if (!await store.Accounts.CreateAccountAsync(new NewAccount(Key, registration.PasswordHash, now, registration.IsAdmin), None))
        {
            _account = await store.Accounts.GetAccountAsync(Key, None);
            throw UserInUse();
        }
        _account = new Account(Key, registration.PasswordHash, now, registration.IsAdmin, Deactivated: false, DisplayName: null, AvatarUrl: null);
        await store.Accounts.SetDisplayNameAsync(Key, displayName, None);
        _account = _account with { DisplayName = displayName };
        return login is null ? null : await IssueAccessTokenAsync(login);
    }

    public Task<string?> GetPasswordHashAsync() =>
        Task.FromResult(_account is { Deactivated: false } ? _account.PasswordHash : null);

    public async Task<LoginResult> LogInAsync(DeviceLogin login, string verifiedPasswordHash)
    {
        if (_account is not { Deactivated: false, PasswordHash: { } current } || current != verifiedPasswordHash)
            throw MatrixRequestException.Forbidden("Invalid username or password.");
        return await IssueAccessTokenAsync(CheckLogin(login));
    }

    public async Task ChangePasswordAsync(string passwordHash, bool logOutOtherDevices, string currentDeviceId)
    {
        var account = RequireActiveAccount();
        RequirePasswordHash(passwordHash);
        await store.Accounts.SetPasswordHashAsync(Key, passwordHash, None);
        _account = account with { PasswordHash = passwordHash };
        if (logOutOtherDevices)
        {
            await store.Devices.DeleteAllDevicesAsync(Key, currentDeviceId, None);
            // To-device: the deleted devices' queued messages go with them.
            await store.ToDevice.DeleteUserInboxesAsync(Key, currentDeviceId, None);
            ForgetSessionsExcept(currentDeviceId);
            await DeleteKeysOfRemovedDevicesAsync();
        }
    }

    /// <summary>
    /// Issues a token for the device (with a refresh token when the login asks for one), revoking its earlier ones,
    /// and records where the device was seen.
    /// </summary>
    private async Task<LoginResult> IssueAccessTokenAsync(DeviceLogin login)
    {
        var deviceId = login.DeviceId!;
        var token = AccessTokens.Create(Key);
        var now = Now();
        var lifetime = login.AccessTokenLifetimeMs;
        var refreshToken = lifetime is null ? null : AccessTokens.CreateRefresh(Key);
        var issued = new NewAccessToken(Key, deviceId, token, now, login.InitialDisplayName, now + lifetime, refreshToken);
        if (!await store.Devices.IssueAccessTokenAsync(issued, None))
            throw MatrixRequestException.Forbidden("The account is deactivated.");
        ForgetSessions(deviceId);
        var ip = AccountInput.IsText(login.ClientIp, StoreLimits.MaxIpAddressBytes) ? login.ClientIp : null;
        await store.Devices.RecordLastSeenAsync(Key, deviceId, now, ip, None);
        return new LoginResult(Key, token, deviceId, refreshToken, lifetime);
    }

    public async Task<LoginResult?> RefreshAsync(string refreshToken, long accessTokenLifetimeMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(accessTokenLifetimeMs);
        if (_account is not { Deactivated: false } || !AccountInput.IsText(refreshToken, StoreLimits.MaxAccessTokenBytes)) return null;
        var now = Now();
        var replacement = new NewAccessToken(
            Key, "", AccessTokens.Create(Key), now, ExpiresTs: now + accessTokenLifetimeMs, RefreshToken: AccessTokens.CreateRefresh(Key));
        var owner = await store.Devices.RefreshAsync(refreshToken, replacement, None);
        if (owner is null) return null;
        // The used refresh token's access token is revoked.
        ForgetSessions(owner.DeviceId);
        return new LoginResult(Key, replacement.AccessToken, owner.DeviceId, replacement.RefreshToken, accessTokenLifetimeMs);
    }

    public async Task<string> RequestOpenIdTokenAsync(long lifetimeMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lifetimeMs);
        RequireActiveAccount();
        var token = AccessTokens.CreateOpenId(Key);
        if (!await store.OpenIdTokens.CreateAsync(Key, token, Now() + lifetimeMs, None))
            throw MatrixRequestException.Forbidden("The account is deactivated.");
        return token;
    }

    public Task<AccountModeration?> GetModerationAsync() =>
        Task.FromResult(_account is { Deactivated: false } account ? new AccountModeration(account.Locked, account.Suspended, account.IsAdmin) : null);

    public async Task<AccountModeration?> SetModerationAsync(bool? locked, bool? suspended)
    {
        if (_account is not { Deactivated: false } account) return null;
        if (locked is { } newLocked && newLocked != account.Locked)
        {
            await store.Accounts.SetLockedAsync(Key, newLocked, None);
            account = account with { Locked = newLocked };
        }
        if (suspended is { } newSuspended && newSuspended != account.Suspended)
        {
            await store.Accounts.SetSuspendedAsync(Key, newSuspended, None);
            account = account with { Suspended = newSuspended };
        }
        _account = account;
        ForgetSessions(null);
        return new AccountModeration(account.Locked, account.Suspended, account.IsAdmin);
    }

    public async Task<bool> IsOpenIdTokenValidAsync(string token) =>
        _account is { Deactivated: false }
        && AccountInput.IsText(token, StoreLimits.MaxAccessTokenBytes)
        && await store.OpenIdTokens.FindUserAsync(token, Now(), None) == Key;

    /// <summary>The login with a device id (generated when absent) and a storable initial device name.</summary>
    private static DeviceLogin CheckLogin(DeviceLogin login) => login with
    {
        DeviceId = login.DeviceId is null ? DeviceIds.Generate() : AccountInput.RequireDeviceId(login.DeviceId),
        InitialDisplayName = ProfileLimits.TrimInitialDeviceDisplayName(login.InitialDisplayName),
    };

    private Account RequireActiveAccount() =>
        _account is { Deactivated: false } account ? account : throw MatrixRequestException.Forbidden("The account does not exist or is deactivated.");

    private static void RequirePasswordHash(string passwordHash)
    {
        if (!AccountInput.IsText(passwordHash, StoreLimits.MaxPasswordHashBytes) || passwordHash.Length == 0)
            throw new ArgumentException("Not an encoded password hash.", nameof(passwordHash));
    }

    /// <summary>Forgets cached sessions of one device, or of all devices; call after revoking tokens in the store.</summary>
    internal void ForgetSessions(string? deviceId)
    {
        foreach (var (hash, session) in _sessionsByTokenHash.ToArray())
        {
            if (deviceId is null || session.DeviceId == deviceId) _sessionsByTokenHash.Remove(hash);
        }
    }

    private void ForgetSessionsExcept(string deviceId)
    {
        foreach (var (hash, session) in _sessionsByTokenHash.ToArray())
        {
            if (session.DeviceId != deviceId) _sessionsByTokenHash.Remove(hash);
        }
    }

    private bool IsLocalUserId(string userId) => UserId.TryParse(userId, out var parsed) && parsed.Server.Value == localServer.Name;

    private static MatrixRequestException UserInUse() => new("M_USER_IN_USE", "Desired user ID is already taken.");

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static string TokenHash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
