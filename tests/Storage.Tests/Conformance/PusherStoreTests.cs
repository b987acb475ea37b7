using System.Text;
using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Pushers: per user, replaced by (app id, pushkey), taken from other users unless appended, gone with their device.</summary>
public abstract class PusherStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "tok-phone", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "LAPTOP", "tok-laptop", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Bob, "BOBPHONE", "tok-bob", 1), Ct);
    }

    private static StoredPusher Pusher(string userId, string pushkey, string? deviceId, string app = "com.example.app", string url = "https://push.example/_matrix/push/v1/notify") =>
        new(userId, app, pushkey, "http", "Example", "Phone", null, "en", Encoding.UTF8.GetBytes($"{{\"url\":\"{url}\"}}"), deviceId, 1_000);

    [Fact]
    public async Task Set_replaces_the_same_app_id_and_pushkey_and_lists_in_order()
    {
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "key-b", "PHONE"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "key-a", "PHONE"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "key-b", "LAPTOP", url: "https://other.example/_matrix/push/v1/notify") with { ProfileTag = "tag" }, append: false, Ct);

        var pushers = await Store.Pushers.GetPushersAsync(Alice, Ct);
        Assert.Equal(["key-a", "key-b"], pushers.Select(p => p.Pushkey));
        var replaced = pushers[1];
        Assert.Equal(("LAPTOP", "tag", "{\"url\":\"https://other.example/_matrix/push/v1/notify\"}", 1_000L),
            (replaced.DeviceId, replaced.ProfileTag, Encoding.UTF8.GetString(replaced.Data), replaced.PushkeyTs));
        Assert.Empty(await Store.Pushers.GetPushersAsync(Bob, Ct));
    }

    [Fact]
    public async Task Without_append_the_pushkey_is_taken_from_other_users_and_with_append_it_is_shared()
    {
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "shared", "PHONE"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Bob, "shared", "BOBPHONE"), append: true, Ct);
        Assert.Single(await Store.Pushers.GetPushersAsync(Alice, Ct));
        Assert.Single(await Store.Pushers.GetPushersAsync(Bob, Ct));

        await Store.Pushers.SetPusherAsync(Pusher(Bob, "shared", "BOBPHONE"), append: false, Ct);
        Assert.Empty(await Store.Pushers.GetPushersAsync(Alice, Ct));
        Assert.Single(await Store.Pushers.GetPushersAsync(Bob, Ct));

        // Another app id with the same pushkey is a different pusher.
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "shared", "PHONE", app: "org.other"), append: false, Ct);
        Assert.Single(await Store.Pushers.GetPushersAsync(Bob, Ct));
    }

    [Fact]
    public async Task The_pushers_of_several_users_come_in_one_list_by_user()
    {
        await Store.Pushers.SetPusherAsync(Pusher(Bob, "key-bob", "BOBPHONE"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "key-2", "PHONE"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "key-1", "LAPTOP"), append: false, Ct);

        var both = await Store.Pushers.GetPushersOfUsersAsync([Bob, Alice, "@nobody:test"], Ct);
        Assert.Equal([(Alice, "key-1"), (Alice, "key-2"), (Bob, "key-bob")], both.Select(p => (p.UserId, p.Pushkey)));
        Assert.Equal(["key-bob"], (await Store.Pushers.GetPushersOfUsersAsync([Bob], Ct)).Select(p => p.Pushkey));
        Assert.Empty(await Store.Pushers.GetPushersOfUsersAsync([], Ct));
        Assert.Empty(await Store.Pushers.GetPushersOfUsersAsync(["@nobody:test"], Ct));
    }

    [Fact]
    public async Task Delete_removes_only_that_pusher()
    {
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "one", "PHONE"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "two", "PHONE"), append: false, Ct);

        Assert.True(await Store.Pushers.DeletePusherAsync(Alice, "com.example.app", "one", Ct));
        Assert.False(await Store.Pushers.DeletePusherAsync(Alice, "com.example.app", "one", Ct));
        Assert.False(await Store.Pushers.DeletePusherAsync(Bob, "com.example.app", "two", Ct));
        Assert.Equal(["two"], (await Store.Pushers.GetPushersAsync(Alice, Ct)).Select(p => p.Pushkey));
    }

    [Fact]
    public async Task Deleting_a_device_deletes_its_pushers_and_deactivation_deletes_all()
    {
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "phone", "PHONE"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Alice, "laptop", "LAPTOP"), append: false, Ct);
        await Store.Pushers.SetPusherAsync(Pusher(Bob, "bob", "BOBPHONE"), append: false, Ct);

        Assert.True(await Store.Devices.DeleteDeviceAsync(Alice, "PHONE", Ct));
        Assert.Equal(["laptop"], (await Store.Pushers.GetPushersAsync(Alice, Ct)).Select(p => p.Pushkey));

        Assert.True(await Store.Accounts.DeactivateAsync(Alice, erase: false, Ct));
        Assert.Empty(await Store.Pushers.GetPushersAsync(Alice, Ct));
        Assert.Single(await Store.Pushers.GetPushersAsync(Bob, Ct));
    }

    [Fact]
    public async Task Bad_input_is_refused_and_nothing_is_stored()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Pushers.SetPusherAsync(Pusher(Alice, new string('k', 513), "PHONE"), append: false, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Pushers.SetPusherAsync(Pusher(Alice, "k", "PHONE") with { Data = Encoding.UTF8.GetBytes("[1]") }, append: false, Ct));
        Assert.Empty(await Store.Pushers.GetPushersAsync(Alice, Ct));
    }
}
