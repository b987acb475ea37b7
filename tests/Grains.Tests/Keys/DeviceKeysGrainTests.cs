using System.Text.Json;
using HomeServer.Grains.Keys;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Delivery;
using HomeServer.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Grains.Tests.Keys;

/// <summary>The key grains' rules and whose running /sync a key change wakes.</summary>
public sealed class DeviceKeysGrainTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private static readonly string Bob = Server.UserId("bob");
    private static readonly string Dave = Server.UserId("dave");
    private static readonly string RoomId = $"!keys:{Server.Name}";

    private static async Task<(TestStore Store, GrainTestCluster Cluster, ReceivedFeeds Received)> StartAsync(StoreBackend backend)
    {
        var store = await TestStore.OpenAsync(backend);
        var received = new ReceivedFeeds();
        var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server, silo =>
        {
            GrainTestCluster.WithStandIn<SyncGrain, ReceivingSyncGrain>()(silo);
            silo.Services.AddSingleton(received);
        });
        // Alice and Bob share a room; Dave is in none. Their sync grains are running (as while they long-poll).
        await cluster.Grains.GetGrain<IRoomGrain>(RoomId).CreateAsync(new CreateRoomRequest(Alice) { Preset = "public_chat" });
        await cluster.Grains.GetGrain<IRoomGrain>(RoomId).JoinAsync(Bob, null);
        foreach (var user in new[] { Alice, Bob, Dave })
            await cluster.Grains.GetGrain<ISyncGrain>(user).NotifyAsync(new SyncNotice(SyncNoticeKind.Typing, null, 0));
        return (store, cluster, received);
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static JsonElement DeviceKeys(string userId, string deviceId, string ed25519 = "edKey", string curve = "curveKey") => Json($$$"""
        {"user_id":"{{{userId}}}","device_id":"{{{deviceId}}}","algorithms":["m.megolm.v1.aes-sha2"],
         "keys":{"ed25519:{{{deviceId}}}":"{{{ed25519}}}","curve25519:{{{deviceId}}}":"{{{curve}}}"},"signatures":{}}
        """);

    private static JsonElement Upload(JsonElement? deviceKeys = null, string? oneTimeKeys = null) => Json(
        "{" + string.Join(",", new[]
        {
            deviceKeys is { } keys ? $"\"device_keys\":{keys.GetRawText()}" : null,
            oneTimeKeys is null ? null : $"\"one_time_keys\":{oneTimeKeys}",
        }.Where(p => p is not null)) + "}");

    private static IReadOnlyList<SyncNotice> Notices(ReceivedFeeds received, string userId, SyncNoticeKind kind) =>
        received.NoticesOf(userId).Where(n => n.Kind == kind).ToList();

    private static async Task<IReadOnlyList<SyncNotice>> WaitForNoticesAsync(ReceivedFeeds received, string userId, SyncNoticeKind kind, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Notices(received, userId, kind).Count < count && DateTime.UtcNow < deadline) await Task.Delay(20);
        return Notices(received, userId, kind);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task A_device_key_change_is_stored_then_wakes_the_owner_and_its_room_peers_only(StoreBackend backend)
    {
        var (store, cluster, received) = await StartAsync(backend);
        await using var _store = store;
        await using var _cluster = cluster;

        await cluster.Grains.GetGrain<IDeviceKeysGrain>(Alice).UploadAsync("PHONE", Upload(DeviceKeys(Alice, "PHONE")));

        var position = await store.Store.Keys.GetMaxDeviceListPositionAsync(CancellationToken.None);
        Assert.Equal([position], (await WaitForNoticesAsync(received, Bob, SyncNoticeKind.DeviceList, 1)).Select(n => n.Position));
        Assert.Equal([position], (await WaitForNoticesAsync(received, Alice, SyncNoticeKind.DeviceList, 1)).Select(n => n.Position));
        await Task.Delay(200);
        Assert.Empty(Notices(received, Dave, SyncNoticeKind.DeviceList));

        // The same keys again change nothing and wake no one.
        await cluster.Grains.GetGrain<IDeviceKeysGrain>(Alice).UploadAsync("PHONE", Upload(DeviceKeys(Alice, "PHONE")));
        await Task.Delay(200);
        Assert.Single(Notices(received, Bob, SyncNoticeKind.DeviceList));
        Assert.Equal(position, await store.Store.Keys.GetMaxDeviceListPositionAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task One_time_key_uploads_and_claims_tell_the_owners_sync_grain_only(StoreBackend backend)
    {
        var (store, cluster, received) = await StartAsync(backend);
        await using var _store = store;
        await using var _cluster = cluster;

        var answer = await cluster.Grains.GetGrain<IDeviceKeysGrain>(Alice).UploadAsync("PHONE",
            Upload(oneTimeKeys: """{"signed_curve25519:A":{"key":"a"},"signed_curve25519:B":{"key":"b"}}"""));
        Assert.Equal("""{"one_time_key_counts":{"signed_curve25519":2}}""", System.Text.Encoding.UTF8.GetString(answer));
        await WaitForNoticesAsync(received, Alice, SyncNoticeKind.OneTimeKeys, 1);

        var claimed = await cluster.Grains.GetGrain<IKeyQueryGrain>("local").ClaimAsync(Json("{\"one_time_keys\":{\"" + Alice + "\":{\"PHONE\":\"signed_curve25519\"}}}"));
        Assert.Contains("signed_curve25519:A", System.Text.Encoding.UTF8.GetString(claimed));
        Assert.Equal(2, (await WaitForNoticesAsync(received, Alice, SyncNoticeKind.OneTimeKeys, 2)).Count);
        await Task.Delay(200);
        Assert.Empty(Notices(received, Bob, SyncNoticeKind.OneTimeKeys));
        Assert.Empty(Notices(received, Bob, SyncNoticeKind.DeviceList));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Identity_keys_cannot_be_replaced_and_a_refused_upload_stores_nothing(StoreBackend backend)
    {
        var (store, cluster, _) = await StartAsync(backend);
        await using var _store = store;
        await using var _cluster = cluster;
        var keys = cluster.Grains.GetGrain<IDeviceKeysGrain>(Alice);
        await keys.UploadAsync("PHONE", Upload(DeviceKeys(Alice, "PHONE")));

        var replaced = await Assert.ThrowsAsync<MatrixRequestException>(() =>
            keys.UploadAsync("PHONE", Upload(DeviceKeys(Alice, "PHONE", ed25519: "otherKey"), """{"signed_curve25519:A":"a"}""")));
        Assert.Equal("M_INVALID_PARAM", replaced.ErrCode);
        var otherUser = await Assert.ThrowsAsync<MatrixRequestException>(() => keys.UploadAsync("PHONE", Upload(DeviceKeys(Bob, "PHONE"))));
        Assert.Equal("M_INVALID_PARAM", otherUser.ErrCode);
        var malformed = await Assert.ThrowsAsync<MatrixRequestException>(() => keys.UploadAsync("PHONE", Upload(oneTimeKeys: """{"nocolon":"a"}""")));
        Assert.Equal("M_BAD_JSON", malformed.ErrCode);

        Assert.Contains("\"edKey\"", await store.Store.Keys.GetDeviceKeysAsync(Alice, "PHONE", CancellationToken.None));
        Assert.Empty(await store.Store.Keys.CountOneTimeKeysAsync(Alice, "PHONE", CancellationToken.None));
        // Identity keys of a new device are its own: the same user's other device may upload different ones.
        await keys.UploadAsync("LAPTOP", Upload(DeviceKeys(Alice, "LAPTOP", ed25519: "otherKey")));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Keys_of_removed_devices_go_and_the_change_is_announced(StoreBackend backend)
    {
        var (store, cluster, received) = await StartAsync(backend);
        await using var _store = store;
        await using var _cluster = cluster;
        // The device exists while its keys are uploaded, then is deleted as DELETE /devices does.
        await store.Store.Accounts.CreateAccountAsync(new Storage.NewAccount(Alice, "hash", 1), CancellationToken.None);
        await store.Store.Devices.IssueAccessTokenAsync(new Storage.NewAccessToken(Alice, "PHONE", "token-phone", 1, null), CancellationToken.None);
        await store.Store.Devices.IssueAccessTokenAsync(new Storage.NewAccessToken(Alice, "LAPTOP", "token-laptop", 1, null), CancellationToken.None);
        await store.Store.Devices.IssueAccessTokenAsync(new Storage.NewAccessToken(Alice, "TABLET", "token-tablet", 1, null), CancellationToken.None);
        var keys = cluster.Grains.GetGrain<IDeviceKeysGrain>(Alice);
        await keys.UploadAsync("PHONE", Upload(DeviceKeys(Alice, "PHONE"), """{"signed_curve25519:A":"a"}"""));
        await keys.UploadAsync("LAPTOP", Upload(DeviceKeys(Alice, "LAPTOP")));
        // A device may upload one-time keys before (or without) its device keys.
        await keys.UploadAsync("TABLET", Upload(oneTimeKeys: """{"signed_curve25519:T":"t"}"""));
        await WaitForNoticesAsync(received, Bob, SyncNoticeKind.DeviceList, 2);

        await store.Store.Devices.DeleteDeviceAsync(Alice, "PHONE", CancellationToken.None);
        await store.Store.Devices.DeleteDeviceAsync(Alice, "TABLET", CancellationToken.None);
        await keys.DeleteKeysOfRemovedDevicesAsync();

        Assert.Null(await store.Store.Keys.GetDeviceKeysAsync(Alice, "PHONE", CancellationToken.None));
        Assert.Empty(await store.Store.Keys.CountOneTimeKeysAsync(Alice, "PHONE", CancellationToken.None));
        Assert.Empty(await store.Store.Keys.CountOneTimeKeysAsync(Alice, "TABLET", CancellationToken.None));
        Assert.NotNull(await store.Store.Keys.GetDeviceKeysAsync(Alice, "LAPTOP", CancellationToken.None));
        Assert.Equal(4, (await WaitForNoticesAsync(received, Bob, SyncNoticeKind.DeviceList, 4)).Count);
    }
}
