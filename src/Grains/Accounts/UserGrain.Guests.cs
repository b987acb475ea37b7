using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Accounts;

public sealed partial class UserGrain
{
    public async Task<LoginResult> RegisterGuestAsync(DeviceLogin login)
    {
        if (!IsLocalUserId(Key) || !GuestUserIds.IsGuestLocalpart(UserId.Parse(Key).Localpart))
            throw new MatrixRequestException("M_INVALID_USERNAME", "Guest user ids have numeric localparts.");
        if (_account is not null) throw UserInUse();
        var checkedLogin = CheckLogin(login);

        var now = Now();
        if (!await store.Accounts.CreateAccountAsync(new NewAccount(Key, PasswordHash: null, now, IsGuest: true), None))
        {
            _account = await store.Accounts.GetAccountAsync(Key, None);
            throw UserInUse();
        }
        // As Synapse, a guest's display name starts as its localpart, like any account's.
        var displayName = UserId.Parse(Key).Localpart;
        _account = new Account(Key, null, now, IsAdmin: false, Deactivated: false, DisplayName: null, AvatarUrl: null, IsGuest: true);
        await store.Accounts.SetDisplayNameAsync(Key, displayName, None);
        _account = _account with { DisplayName = displayName };
        return await IssueAccessTokenAsync(checkedLogin);
    }

    public async Task<LoginResult?> UpgradeGuestAsync(string passwordHash, DeviceLogin? login)
    {
        if (_account is not { Deactivated: false, IsGuest: true } account)
            throw MatrixRequestException.Forbidden("Only an active guest account can be upgraded.");
        RequirePasswordHash(passwordHash);
        var checkedLogin = login is null ? null : CheckLogin(login);
        if (!await store.Accounts.UpgradeGuestAsync(Key, passwordHash, None))
        {
            _account = await store.Accounts.GetAccountAsync(Key, None);
            throw MatrixRequestException.Forbidden("Only an active guest account can be upgraded.");
        }
        _account = account with { PasswordHash = passwordHash, IsGuest = false };
        // Cached sessions still say guest; the guest's tokens stay valid (as in Synapse) and now authenticate a full account.
        ForgetSessions(deviceId: null);
        return checkedLogin is null ? null : await IssueAccessTokenAsync(checkedLogin);
    }
}
