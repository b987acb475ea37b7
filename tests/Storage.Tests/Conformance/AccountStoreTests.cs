using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class AccountStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    [Fact]
    public async Task Created_account_reads_back_with_every_field()
    {
        Assert.True(await Store.Accounts.CreateAccountAsync(new NewAccount(Alice, "$argon2id$hash", 1_234, IsAdmin: true), Ct));

        var account = await Store.Accounts.GetAccountAsync(Alice, Ct);

        Assert.Equal(new Account(Alice, "$argon2id$hash", 1_234, IsAdmin: true, Deactivated: false, null, null), account);
        Assert.Null(await Store.Accounts.GetAccountAsync(Bob, Ct));
    }

    [Fact]
    public async Task Creating_a_taken_user_id_returns_false_and_keeps_the_original()
    {
        await Store.Accounts.CreateAccountAsync(new NewAccount(Alice, "first", 1), Ct);

        Assert.False(await Store.Accounts.CreateAccountAsync(new NewAccount(Alice, "second", 2, IsAdmin: true), Ct));

        var account = await Store.Accounts.GetAccountAsync(Alice, Ct);
        Assert.Equal("first", account!.PasswordHash);
        Assert.False(account.IsAdmin);
    }

    [Fact]
    public async Task Account_without_password_is_allowed()
    {
        Assert.True(await Store.Accounts.CreateAccountAsync(new NewAccount(Alice, null, 1), Ct));
        Assert.Null((await Store.Accounts.GetAccountAsync(Alice, Ct))!.PasswordHash);
    }

    [Fact]
    public async Task A_guest_account_reads_back_as_guest_and_an_upgrade_makes_it_a_full_account_once()
    {
        Assert.True(await Store.Accounts.CreateAccountAsync(new NewAccount(Alice, null, 1, IsGuest: true), Ct));
        await CreateAccountAsync(Bob);

        Assert.Equal(new Account(Alice, null, 1, false, false, null, null, IsGuest: true), await Store.Accounts.GetAccountAsync(Alice, Ct));
        Assert.False((await Store.Accounts.GetAccountAsync(Bob, Ct))!.IsGuest);

        Assert.True(await Store.Accounts.UpgradeGuestAsync(Alice, "full-hash", Ct));
        Assert.Equal(new Account(Alice, "full-hash", 1, false, false, null, null, IsGuest: false), await Store.Accounts.GetAccountAsync(Alice, Ct));

        // Only a guest can be upgraded: a second upgrade, a full account and an unknown one are refused and unchanged.
        Assert.False(await Store.Accounts.UpgradeGuestAsync(Alice, "other-hash", Ct));
        Assert.False(await Store.Accounts.UpgradeGuestAsync(Bob, "other-hash", Ct));
        Assert.False(await Store.Accounts.UpgradeGuestAsync("@nobody:test", "other-hash", Ct));
        Assert.Equal("full-hash", (await Store.Accounts.GetAccountAsync(Alice, Ct))!.PasswordHash);
        Assert.NotEqual("other-hash", (await Store.Accounts.GetAccountAsync(Bob, Ct))!.PasswordHash);
    }

    [Fact]
    public async Task A_deactivated_guest_cannot_be_upgraded()
    {
        await Store.Accounts.CreateAccountAsync(new NewAccount(Alice, null, 1, IsGuest: true), Ct);
        await Store.Accounts.DeactivateAsync(Alice, erase: false, Ct);

        Assert.False(await Store.Accounts.UpgradeGuestAsync(Alice, "hash", Ct));
        Assert.Null((await Store.Accounts.GetAccountAsync(Alice, Ct))!.PasswordHash);
    }

    [Fact]
    public async Task Setters_update_and_clear_fields()
    {
        await CreateAccountAsync(Alice);

        Assert.True(await Store.Accounts.SetPasswordHashAsync(Alice, "new-hash", Ct));
        Assert.True(await Store.Accounts.SetAdminAsync(Alice, true, Ct));
        Assert.True(await Store.Accounts.SetDisplayNameAsync(Alice, "Alice ✨", Ct));
        Assert.True(await Store.Accounts.SetAvatarUrlAsync(Alice, "mxc://test/abc", Ct));
        var updated = await Store.Accounts.GetAccountAsync(Alice, Ct);
        Assert.Equal(("new-hash", true, "Alice ✨", "mxc://test/abc"),
            (updated!.PasswordHash, updated.IsAdmin, updated.DisplayName, updated.AvatarUrl));

        Assert.True(await Store.Accounts.SetDisplayNameAsync(Alice, null, Ct));
        Assert.True(await Store.Accounts.SetAvatarUrlAsync(Alice, null, Ct));
        Assert.True(await Store.Accounts.SetAdminAsync(Alice, false, Ct));
        Assert.True(await Store.Accounts.SetPasswordHashAsync(Alice, null, Ct));
        var cleared = await Store.Accounts.GetAccountAsync(Alice, Ct);
        Assert.Equal(new Account(Alice, null, 1_000, false, false, null, null), cleared);
    }

    [Fact]
    public async Task Setters_return_false_for_an_unknown_account()
    {
        Assert.False(await Store.Accounts.SetPasswordHashAsync(Bob, "x", Ct));
        Assert.False(await Store.Accounts.SetAdminAsync(Bob, true, Ct));
        Assert.False(await Store.Accounts.SetDisplayNameAsync(Bob, "Bob", Ct));
        Assert.False(await Store.Accounts.SetAvatarUrlAsync(Bob, "mxc://x/y", Ct));
        Assert.False(await Store.Accounts.DeactivateAsync(Bob, erase: false, Ct));
        Assert.Null(await Store.Accounts.GetAccountAsync(Bob, Ct));
    }

    [Fact]
    public async Task Deactivation_clears_the_password_and_removes_devices_and_tokens()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "tok-phone", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "LAPTOP", "tok-laptop", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Bob, "PHONE", "tok-bob", 1), Ct);

        Assert.True(await Store.Accounts.DeactivateAsync(Alice, erase: false, Ct));

        var account = await Store.Accounts.GetAccountAsync(Alice, Ct);
        Assert.True(account!.Deactivated);
        Assert.Null(account.PasswordHash);
        Assert.Empty(await Store.Devices.GetDevicesAsync(Alice, Ct));
        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("tok-phone", Ct));
        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("tok-laptop", Ct));
        Assert.Equal(new AccessTokenOwner(Bob, "PHONE"), await Store.Devices.FindAccessTokenOwnerAsync("tok-bob", Ct));
    }

    [Fact]
    public async Task A_deactivated_account_gets_no_new_access_token()
    {
        await CreateAccountAsync(Alice);
        await Store.Accounts.DeactivateAsync(Alice, erase: false, Ct);

        Assert.False(await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "D", "tok", 1), Ct));

        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("tok", Ct));
        Assert.Empty(await Store.Devices.GetDevicesAsync(Alice, Ct));
    }

    [Fact]
    public async Task Deactivation_clears_the_profile()
    {
        await CreateAccountAsync(Alice);
        await Store.Accounts.SetDisplayNameAsync(Alice, "Alice", Ct);
        await Store.Accounts.SetAvatarUrlAsync(Alice, "mxc://example.org/alice", Ct);

        Assert.True(await Store.Accounts.DeactivateAsync(Alice, erase: false, Ct));

        var account = await Store.Accounts.GetAccountAsync(Alice, Ct);
        Assert.Null(account!.DisplayName);
        Assert.Null(account.AvatarUrl);
        Assert.False(account.Erased);
    }

    [Fact]
    public async Task Only_accounts_deactivated_with_erase_are_erased_and_stay_so_when_deactivated_again()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
        await CreateAccountAsync(Carol);
        Assert.Empty(await Store.Accounts.GetErasedUsersAsync([Alice, Bob, Carol], Ct));

        Assert.True(await Store.Accounts.DeactivateAsync(Alice, erase: true, Ct));
        Assert.True(await Store.Accounts.DeactivateAsync(Bob, erase: false, Ct));
        Assert.True(await Store.Accounts.DeactivateAsync(Alice, erase: false, Ct));

        Assert.True((await Store.Accounts.GetAccountAsync(Alice, Ct))!.Erased);
        Assert.False((await Store.Accounts.GetAccountAsync(Bob, Ct))!.Erased);
        Assert.Equal([Alice], await Store.Accounts.GetErasedUsersAsync([Alice, Bob, Carol, Alice, "@nobody:test"], Ct));
        Assert.Empty(await Store.Accounts.GetErasedUsersAsync([], Ct));
    }

    [Fact]
    public async Task Erasure_deletes_the_account_data_and_deactivation_alone_keeps_it()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
        foreach (var user in new[] { Alice, Bob })
        {
            await Store.AccountData.SetAccountDataAsync(user, null, "m.push_rules", "{}"u8.ToArray(), Ct);
            await Store.AccountData.SetAccountDataAsync(user, "!room:test", "m.tag", "{}"u8.ToArray(), Ct);
        }

        await Store.Accounts.DeactivateAsync(Alice, erase: true, Ct);
        await Store.Accounts.DeactivateAsync(Bob, erase: false, Ct);

        Assert.Empty(await Store.AccountData.GetAccountDataChangesAsync(Alice, 0, Ct));
        Assert.Equal(2, (await Store.AccountData.GetAccountDataChangesAsync(Bob, 0, Ct)).Count);
    }
}
