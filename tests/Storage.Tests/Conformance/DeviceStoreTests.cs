using System.Security.Cryptography;
using System.Text;
using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class DeviceStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
    }

    [Fact]
    public async Task Issued_token_finds_its_user_and_device()
    {
        Assert.True(await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "syt_secret", 5, "Alice's phone"), Ct));

        Assert.Equal(new AccessTokenOwner(Alice, "PHONE"), await Store.Devices.FindAccessTokenOwnerAsync("syt_secret", Ct));
        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("syt_other", Ct));
        Assert.Equal(new Device(Alice, "PHONE", "Alice's phone", null, null), await Store.Devices.GetDeviceAsync(Alice, "PHONE", Ct));
    }

    [Fact]
    public async Task Only_the_sha256_of_a_token_is_stored()
    {
        const string token = "syt_YWxpY2U_plaintext_secret";
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", token, 5), Ct);

        await using var connection = await OpenRawAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT token_hash, user_id, device_id, created_ts FROM access_tokens";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        var stored = reader.GetFieldValue<byte[]>(0);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), stored);
        var row = string.Join("|", reader.GetString(1), reader.GetString(2), reader.GetInt64(3), Encoding.UTF8.GetString(stored));
        Assert.DoesNotContain(token, row);
        Assert.False(await reader.ReadAsync(Ct));
    }

    [Fact]
    public async Task Signing_in_again_on_a_device_replaces_its_token_and_keeps_its_name()
    {
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "old", 1, "Phone"), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "LAPTOP", "laptop", 1), Ct);

        Assert.True(await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "new", 2, "Ignored"), Ct));

        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("old", Ct));
        Assert.Equal(new AccessTokenOwner(Alice, "PHONE"), await Store.Devices.FindAccessTokenOwnerAsync("new", Ct));
        Assert.Equal(new AccessTokenOwner(Alice, "LAPTOP"), await Store.Devices.FindAccessTokenOwnerAsync("laptop", Ct));
        Assert.Equal("Phone", (await Store.Devices.GetDeviceAsync(Alice, "PHONE", Ct))!.DisplayName);
    }

    [Fact]
    public async Task No_token_or_device_for_an_unknown_account()
    {
        Assert.False(await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Carol, "D", "tok", 1), Ct));

        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("tok", Ct));
        Assert.Null(await Store.Devices.GetDeviceAsync(Carol, "D", Ct));
    }

    [Fact]
    public async Task Reissuing_a_token_already_in_use_is_rejected_and_changes_nothing()
    {
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "same", 1), Ct);

        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Bob, "TABLET", "same", 2), Ct));

        Assert.Equal(new AccessTokenOwner(Alice, "PHONE"), await Store.Devices.FindAccessTokenOwnerAsync("same", Ct));
        Assert.Null(await Store.Devices.GetDeviceAsync(Bob, "TABLET", Ct));
    }

    [Fact]
    public async Task Devices_are_listed_in_order_and_their_details_update()
    {
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "ZED", "t1", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "ABC", "t2", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Bob, "BOBS", "t3", 1), Ct);

        Assert.True(await Store.Devices.SetDeviceDisplayNameAsync(Alice, "ABC", "Desktop", Ct));
        Assert.True(await Store.Devices.RecordLastSeenAsync(Alice, "ABC", 99, "192.0.2.1", Ct));
        Assert.True(await Store.Devices.RecordLastSeenAsync(Alice, "ZED", 100, null, Ct));

        Assert.Equal(
            [new Device(Alice, "ABC", "Desktop", 99, "192.0.2.1"), new Device(Alice, "ZED", null, 100, null)],
            await Store.Devices.GetDevicesAsync(Alice, Ct));
        Assert.False(await Store.Devices.SetDeviceDisplayNameAsync(Alice, "NOPE", "x", Ct));
        Assert.False(await Store.Devices.RecordLastSeenAsync(Alice, "NOPE", 1, null, Ct));
        Assert.Null(await Store.Devices.GetDeviceAsync(Alice, "NOPE", Ct));
    }

    [Fact]
    public async Task Revoking_tokens_of_one_device_keeps_the_device_and_other_tokens()
    {
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "phone", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "LAPTOP", "laptop", 1), Ct);

        Assert.Equal(1, await Store.Devices.RevokeAccessTokensAsync(Alice, "PHONE", Ct));

        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("phone", Ct));
        Assert.NotNull(await Store.Devices.GetDeviceAsync(Alice, "PHONE", Ct));
        Assert.NotNull(await Store.Devices.FindAccessTokenOwnerAsync("laptop", Ct));
    }

    [Fact]
    public async Task Revoking_all_tokens_of_a_user_leaves_other_users_alone()
    {
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "phone", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "LAPTOP", "laptop", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Bob, "PHONE", "bob", 1), Ct);

        Assert.Equal(2, await Store.Devices.RevokeAccessTokensAsync(Alice, null, Ct));

        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("phone", Ct));
        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("laptop", Ct));
        Assert.Equal(2, (await Store.Devices.GetDevicesAsync(Alice, Ct)).Count);
        Assert.NotNull(await Store.Devices.FindAccessTokenOwnerAsync("bob", Ct));
    }

    [Fact]
    public async Task Deleting_a_device_revokes_its_token()
    {
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "phone", 1), Ct);

        Assert.True(await Store.Devices.DeleteDeviceAsync(Alice, "PHONE", Ct));
        Assert.False(await Store.Devices.DeleteDeviceAsync(Alice, "PHONE", Ct));

        Assert.Null(await Store.Devices.GetDeviceAsync(Alice, "PHONE", Ct));
        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("phone", Ct));
    }

    [Fact]
    public async Task Deleting_all_devices_can_keep_the_current_one()
    {
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "A", "a", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "B", "b", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "C", "c", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Bob, "A", "bob", 1), Ct);

        Assert.Equal(2, await Store.Devices.DeleteAllDevicesAsync(Alice, "B", Ct));

        Assert.Equal(["B"], (await Store.Devices.GetDevicesAsync(Alice, Ct)).Select(d => d.DeviceId));
        Assert.NotNull(await Store.Devices.FindAccessTokenOwnerAsync("b", Ct));
        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("a", Ct));

        Assert.Equal(1, await Store.Devices.DeleteAllDevicesAsync(Alice, null, Ct));
        Assert.Empty(await Store.Devices.GetDevicesAsync(Alice, Ct));
        Assert.Null(await Store.Devices.FindAccessTokenOwnerAsync("b", Ct));
        Assert.NotNull(await Store.Devices.FindAccessTokenOwnerAsync("bob", Ct));
    }
}
