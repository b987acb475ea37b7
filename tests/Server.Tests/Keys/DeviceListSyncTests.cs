using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Keys;

/// <summary>
/// /sync's device_lists, device_one_time_keys_count and device_unused_fallback_key_types, and GET /keys/changes, as a
/// client sees them: key changes of users sharing a room arrive once, joins and leaves move users in and out.
/// </summary>
public abstract class DeviceListSyncTests : KeysTestBase
{
    private static List<string> Changed(JsonElement sync) =>
        sync.GetProperty("device_lists").GetProperty("changed").EnumerateArray().Select(e => e.GetString()!).ToList();

    private static List<string> Left(JsonElement sync) =>
        sync.GetProperty("device_lists").GetProperty("left").EnumerateArray().Select(e => e.GetString()!).ToList();

    private static JsonElement OtkCounts(JsonElement sync) => sync.GetProperty("device_one_time_keys_count");

    private static List<string> FallbackTypes(JsonElement sync) =>
        sync.GetProperty("device_unused_fallback_key_types").EnumerateArray().Select(e => e.GetString()!).ToList();

    private async Task<(SyncUser Alice, SyncUser Bob, string Room)> TwoUsersInARoomAsync()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var room = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(room);
        return (alice, bob, room);
    }

    /// <summary>
    /// Long-polls from the token until a response carries a device-list change (other news, such as presence, may wake
    /// the poll first); fails after <paramref name="within"/>.
    /// </summary>
    private static async Task<JsonElement> SyncUntilDeviceListChangeAsync(SyncUser user, string token, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var remaining = within - watch.Elapsed;
            Assert.True(remaining > TimeSpan.Zero, "no device-list change arrived");
            var sync = await user.SyncSinceAsync(token, $"timeout={(int)remaining.TotalMilliseconds}");
            if (Changed(sync).Count > 0 || Left(sync).Count > 0) return sync;
            token = NextBatch(sync);
        }
    }

    private async Task<JsonElement> ChangesAsync(SyncUser user, string from, string to) =>
        await OkAsync(user, HttpMethod.Get, $"/keys/changes?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}", null);

    [Fact]
    public async Task One_time_key_counts_and_fallback_types_are_always_present_and_follow_uploads_and_claims()
    {
        var (alice, bob, _) = await TwoUsersInARoomAsync();
        using var ed = new SigningKey();
        var initial = await alice.SyncAsync();
        Assert.Equal(0, OtkCounts(initial).GetProperty("signed_curve25519").GetInt32());
        Assert.Empty(FallbackTypes(initial));

        await UploadAsync(alice, new JsonObject
        {
            ["device_keys"] = DeviceKeys(alice, ed),
            ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 5),
            ["fallback_keys"] = OneTimeKeys(alice, ed, "F", 1, fallback: true),
        });
        var afterUpload = await alice.SyncSinceAsync(NextBatch(initial), "timeout=0");
        Assert.Equal(5, OtkCounts(afterUpload).GetProperty("signed_curve25519").GetInt32());
        Assert.Equal(["signed_curve25519"], FallbackTypes(afterUpload));

        for (var i = 0; i < 6; i++) await ClaimAsync(bob, new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = "signed_curve25519" } });
        var afterClaims = await alice.SyncSinceAsync(NextBatch(afterUpload), "timeout=0");
        Assert.Equal(0, OtkCounts(afterClaims).GetProperty("signed_curve25519").GetInt32());
        Assert.Empty(FallbackTypes(afterClaims));

        // Another device of the same user has counts of its own.
        var phone = await LogInAgainAsync(alice, "PHONE");
        Assert.Equal(0, OtkCounts(await phone.SyncAsync()).GetProperty("signed_curve25519").GetInt32());
    }

    [Fact]
    public async Task A_response_of_new_room_messages_carries_the_count_left_after_a_claim()
    {
        var (alice, bob, room) = await TwoUsersInARoomAsync();
        using var ed = new SigningKey();
        await UploadAsync(alice, new JsonObject { ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 3) });
        var token = NextBatch(await alice.SyncSinceAsync(NextBatch(await alice.SyncAsync()), "timeout=0"));
        // Warm: a response that read the counts (3) before the claim.
        var warm = await alice.SyncSinceAsync(token, "timeout=0");
        Assert.Equal(3, OtkCounts(warm).GetProperty("signed_curve25519").GetInt32());

        await ClaimAsync(bob, new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = "signed_curve25519" } });
        await bob.Rooms.SendTextAsync(room, "after the claim");
        var watch = Stopwatch.StartNew();
        JsonElement sync;
        do
        {
            sync = await alice.SyncSinceAsync(NextBatch(warm), "timeout=5000");
            warm = sync;
        }
        while (!HasJoined(sync, room) && watch.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(["after the claim"], Bodies(Joined(sync, room)));
        Assert.Equal(2, OtkCounts(sync).GetProperty("signed_curve25519").GetInt32());
    }

    [Fact]
    public async Task A_one_time_key_upload_alone_does_not_wake_a_long_poll_but_its_answer_carries_the_new_count()
    {
        var alice = await RegisterAsync("alice");
        using var ed = new SigningKey();
        var initial = await alice.SyncAsync();
        var poll = Task.Run(async () =>
        {
            var watch = Stopwatch.StartNew();
            var sync = await alice.SyncSinceAsync(NextBatch(initial), "timeout=2000");
            return (sync, watch.Elapsed);
        });
        await Task.Delay(300);
        await UploadAsync(alice, new JsonObject { ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 3) });

        var (answer, elapsed) = await poll;
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(1_800), $"answered after {elapsed}");
        Assert.Equal(3, OtkCounts(answer).GetProperty("signed_curve25519").GetInt32());
        Assert.Empty(Changed(answer));
    }

    [Fact]
    public async Task A_device_key_upload_wakes_the_long_polls_of_the_owner_and_of_room_peers_only()
    {
        var (alice, bob, _) = await TwoUsersInARoomAsync();
        var carol = await RegisterAsync("carol");
        using var ed = new SigningKey();
        var bobToken = NextBatch(await bob.SyncAsync());
        var aliceToken = NextBatch(await alice.SyncAsync());
        var carolToken = NextBatch(await carol.SyncAsync());

        var bobPoll = SyncUntilDeviceListChangeAsync(bob, bobToken, TimeSpan.FromSeconds(10));
        var carolPoll = carol.SyncSinceAsync(carolToken, "timeout=1500");
        await Task.Delay(300);
        var watch = Stopwatch.StartNew();
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, ed) });

        var bobSync = await bobPoll;
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"woken after {watch.Elapsed}");
        Assert.Equal([alice.UserId], Changed(bobSync));
        Assert.Equal([alice.UserId], Changed(await alice.SyncSinceAsync(aliceToken, "timeout=0")));
        Assert.Empty(Changed(await carolPoll));

        // Reported once: the next response has no change.
        Assert.Empty(Changed(await bob.SyncSinceAsync(NextBatch(bobSync), "timeout=0")));
        // Uploading the same keys again is no change.
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, ed) });
        Assert.Empty(Changed(await bob.SyncSinceAsync(NextBatch(bobSync), "timeout=0")));
    }

    [Fact]
    public async Task Joining_brings_the_new_peers_in_changed_and_leaving_the_last_shared_room_puts_them_in_left()
    {
        var (alice, bob, room) = await TwoUsersInARoomAsync();
        var carol = await RegisterAsync("carol");
        var aliceToken = NextBatch(await alice.SyncAsync());
        var carolToken = NextBatch(await carol.SyncAsync());

        await carol.Rooms.JoinAsync(room);
        var aliceSeesJoin = await alice.SyncSinceAsync(aliceToken, "timeout=0");
        Assert.Equal([carol.UserId], Changed(aliceSeesJoin));
        var carolJoined = await carol.SyncSinceAsync(carolToken, "timeout=0");
        Assert.Equal(new[] { alice.UserId, bob.UserId }.Order(StringComparer.Ordinal), Changed(carolJoined).Order(StringComparer.Ordinal));

        // Bob shares a second room with Alice: leaving one keeps him tracked.
        var second = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(second);
        var beforeLeaves = NextBatch(await alice.SyncSinceAsync(NextBatch(aliceSeesJoin), "timeout=0"));
        await bob.Rooms.LeaveAsync(room);
        var oneLeft = await alice.SyncSinceAsync(beforeLeaves, "timeout=0");
        Assert.Empty(Left(oneLeft));
        await bob.Rooms.LeaveAsync(second);
        var bothLeft = await alice.SyncSinceAsync(NextBatch(oneLeft), "timeout=0");
        Assert.Equal([bob.UserId], Left(bothLeft));
        Assert.DoesNotContain(bob.UserId, Changed(bothLeft));

        // Carol leaves the room she shared with Alice (and with Bob, who has left it since): for Carol, both are left.
        var carolToken2 = NextBatch(carolJoined);
        await carol.Rooms.LeaveAsync(room);
        Assert.Equal(new[] { alice.UserId, bob.UserId }.Order(StringComparer.Ordinal),
            Left(await carol.SyncSinceAsync(carolToken2, "timeout=0")).Order(StringComparer.Ordinal));

        // /keys/changes between the same tokens says the same.
        var changes = await ChangesAsync(alice, beforeLeaves, NextBatch(bothLeft));
        Assert.Contains(bob.UserId, changes.GetProperty("left").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Keys_changes_lists_the_peers_whose_keys_changed_between_two_sync_tokens()
    {
        var (alice, bob, _) = await TwoUsersInARoomAsync();
        var carol = await RegisterAsync("carol");
        using var bobKey = new SigningKey();
        using var carolKey = new SigningKey();
        var from = NextBatch(await alice.SyncAsync());
        await UploadAsync(bob, new JsonObject { ["device_keys"] = DeviceKeys(bob, bobKey) });
        await UploadAsync(carol, new JsonObject { ["device_keys"] = DeviceKeys(carol, carolKey) });
        var to = NextBatch(await alice.SyncSinceAsync(from, "timeout=0"));

        var changes = await ChangesAsync(alice, from, to);
        Assert.Equal([bob.UserId], changes.GetProperty("changed").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(changes.GetProperty("left").EnumerateArray());
        Assert.Empty((await ChangesAsync(alice, to, to)).GetProperty("changed").EnumerateArray());

        await FailsAsync(alice, HttpMethod.Get, "/keys/changes?from=garbage&to=" + Uri.EscapeDataString(to), "", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await FailsAsync(alice, HttpMethod.Get, "/keys/changes?to=" + Uri.EscapeDataString(to), "", HttpStatusCode.BadRequest, "M_MISSING_PARAM");
    }

    [Fact]
    public async Task Deleting_a_device_removes_its_keys_and_tells_the_peers()
    {
        var (alice, bob, _) = await TwoUsersInARoomAsync();
        var phone = await LogInAgainAsync(alice, "PHONE");
        using var ed = new SigningKey();
        await UploadAsync(phone, new JsonObject { ["device_keys"] = DeviceKeys(phone, ed), ["one_time_keys"] = OneTimeKeys(phone, ed, "A", 2) });
        var bobToken = NextBatch(await bob.SyncAsync());

        var challenge = await alice.SendAsync(HttpMethod.Delete, "/_matrix/client/v3/devices/PHONE", new JsonObject());
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        var session = (await challenge.ReadJsonAsync()).GetProperty("session").GetString();
        var deleted = await alice.SendAsync(HttpMethod.Delete, "/_matrix/client/v3/devices/PHONE", new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["type"] = "m.login.password",
                ["identifier"] = new JsonObject { ["type"] = "m.id.user", ["user"] = alice.UserId },
                ["password"] = Password,
                ["session"] = session,
            },
        });
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

        Assert.Equal([alice.UserId], Changed(await SyncUntilDeviceListChangeAsync(bob, bobToken, TimeSpan.FromSeconds(10))));
        Assert.Empty((await QueryAsync(bob, alice.UserId)).GetProperty("device_keys").GetProperty(alice.UserId).EnumerateObject());
        Assert.Empty((await ClaimAsync(bob, new JsonObject { [alice.UserId] = new JsonObject { ["PHONE"] = "signed_curve25519" } }))
            .GetProperty("one_time_keys").EnumerateObject());
    }

    [Fact]
    public async Task Cross_signing_uploads_reach_room_peers_as_device_list_changes()
    {
        var (alice, bob, _) = await TwoUsersInARoomAsync();
        using var master = new SigningKey();
        var bobToken = NextBatch(await bob.SyncAsync());
        var key = new JsonObject
        {
            ["user_id"] = alice.UserId,
            ["usage"] = new JsonArray("master"),
            ["keys"] = new JsonObject { ["ed25519:" + master.PublicKey] = master.PublicKey },
        };
        await OkAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", new JsonObject { ["master_key"] = key });
        Assert.Equal([alice.UserId], Changed(await SyncUntilDeviceListChangeAsync(bob, bobToken, TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task Signing_another_users_master_key_puts_that_user_in_the_signers_changed_even_without_a_shared_room()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var aliceMaster = new SigningKey();
        using var aliceUserSigning = new SigningKey();
        using var bobMaster = new SigningKey();
        JsonObject Key(SyncUser user, SigningKey key, string usage) => new()
        {
            ["user_id"] = user.UserId,
            ["usage"] = new JsonArray(usage),
            ["keys"] = new JsonObject { ["ed25519:" + key.PublicKey] = key.PublicKey },
        };
        await OkAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", new JsonObject
        {
            ["master_key"] = Key(alice, aliceMaster, "master"),
            ["user_signing_key"] = aliceMaster.Sign(Key(alice, aliceUserSigning, "user_signing"), alice.UserId, aliceMaster.PublicKey),
        });
        await OkAsync(bob, HttpMethod.Post, "/keys/device_signing/upload", new JsonObject { ["master_key"] = Key(bob, bobMaster, "master") });
        var aliceToken = NextBatch(await alice.SyncAsync());

        var signed = aliceUserSigning.Sign(Key(bob, bobMaster, "master"), alice.UserId, aliceUserSigning.PublicKey);
        var result = await OkAsync(alice, HttpMethod.Post, "/keys/signatures/upload",
            new JsonObject { [bob.UserId] = new JsonObject { [bobMaster.PublicKey] = signed } });
        Assert.Empty(result.GetProperty("failures").EnumerateObject());

        Assert.Equal([bob.UserId], Changed(await SyncUntilDeviceListChangeAsync(alice, aliceToken, TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task Changes_made_before_a_restart_reach_a_token_issued_before_it()
    {
        var (alice, bob, _) = await TwoUsersInARoomAsync();
        using var ed = new SigningKey();
        var bobToken = NextBatch(await bob.SyncAsync());
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, ed), ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 4) });

        await RestartAsync();
        alice = alice.On(Server);
        bob = bob.On(Server);

        var bobSync = await bob.SyncSinceAsync(bobToken, "timeout=0");
        Assert.Equal([alice.UserId], Changed(bobSync));
        Assert.Empty(Changed(await bob.SyncSinceAsync(NextBatch(bobSync), "timeout=0")));
        Assert.Equal(4, OtkCounts(await alice.SyncAsync()).GetProperty("signed_curve25519").GetInt32());
    }
}

public sealed class SqliteDeviceListSyncTests : DeviceListSyncTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresDeviceListSyncTests : DeviceListSyncTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
