using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Push;

/// <summary>
/// Pushers (client-server/pusher.yaml) and delivery to a push gateway (push-gateway-api): set, list and delete,
/// refused bodies, the notify body a local gateway receives, event_id_only, rejected pushkeys, retries, and a hanging
/// gateway not slowing the room down.
/// </summary>
public abstract class PusherTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private static Dictionary<string, object?> HttpPusher(string pushkey, string url, string appId = "com.example.app.ios", object? data = null) => new()
    {
        ["kind"] = "http",
        ["app_id"] = appId,
        ["pushkey"] = pushkey,
        ["app_display_name"] = "Example",
        ["device_display_name"] = "Phone",
        ["lang"] = "en-US",
        ["data"] = data ?? new Dictionary<string, object> { ["url"] = url },
    };

    private static async Task<List<JsonElement>> PushersAsync(RoomsClient user) =>
        (await user.OkAsync(Get, "/pushers")).GetProperty("pushers").EnumerateArray().ToList();

    /// <summary>Bob with a pusher to the gateway, in a room named "Lunch" that Alice created.</summary>
    private async Task<(RoomsClient Alice, RoomsClient Bob, string RoomId)> RoomWithPusherAsync(LocalPushGateway gateway, object? data = null)
    {
        var alice = await UserAsync("alice", "Alice");
        var bob = await UserAsync("bob", "Bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", name = "Lunch" });
        await bob.JoinAsync(roomId);
        await bob.OkAsync(Post, "/pushers/set", HttpPusher("bob-key", gateway.Url, data: data));
        return (alice, bob, roomId);
    }

    private static Task<string> MentionAsync(RoomsClient sender, string roomId, string userId, string body = "lunch?") =>
        sender.SendAsync(roomId, new Dictionary<string, object>
        {
            ["msgtype"] = "m.text", ["body"] = body, ["m.mentions"] = new { user_ids = new[] { userId } },
        });

    [Fact]
    public async Task Pushers_are_set_listed_replaced_and_deleted()
    {
        var bob = await UserAsync("bob");
        Assert.Empty(await PushersAsync(bob));

        var first = HttpPusher("key-1", "https://push.example.org/_matrix/push/v1/notify",
            data: new Dictionary<string, object> { ["url"] = "https://push.example.org/_matrix/push/v1/notify", ["format"] = "event_id_only", ["custom"] = new { a = 1 } });
        first["profile_tag"] = "xyz";
        first["append"] = false;
        await bob.OkAsync(Post, "/pushers/set", first);
        await bob.OkAsync(Post, "/pushers/set", HttpPusher("key-2", "http://127.0.0.1:1/_matrix/push/v1/notify"));

        var pushers = await PushersAsync(bob);
        Assert.Equal(["key-1", "key-2"], pushers.Select(p => p.GetProperty("pushkey").GetString()));
        var listed = pushers[0];
        Assert.Equal(("http", "com.example.app.ios", "Example", "Phone", "xyz", "en-US"),
            (listed.GetProperty("kind").GetString(), listed.GetProperty("app_id").GetString(), listed.GetProperty("app_display_name").GetString(),
             listed.GetProperty("device_display_name").GetString(), listed.GetProperty("profile_tag").GetString(), listed.GetProperty("lang").GetString()));
        Assert.Equal("{\"url\":\"https://push.example.org/_matrix/push/v1/notify\",\"format\":\"event_id_only\",\"custom\":{\"a\":1}}",
            listed.GetProperty("data").GetRawText());
        Assert.False(pushers[1].TryGetProperty("profile_tag", out _));

        // The same app_id and pushkey replace the pusher.
        var renamed = HttpPusher("key-1", "https://push.example.org/_matrix/push/v1/notify");
        renamed["device_display_name"] = "New phone";
        await bob.OkAsync(Post, "/pushers/set", renamed);
        pushers = await PushersAsync(bob);
        Assert.Equal(2, pushers.Count);
        Assert.Equal("New phone", pushers[0].GetProperty("device_display_name").GetString());

        // kind null deletes; deleting what does not exist is no error.
        await bob.OkAsync(Post, "/pushers/set", new { kind = (string?)null, app_id = "com.example.app.ios", pushkey = "key-1" });
        await bob.OkAsync(Post, "/pushers/set", new { kind = (string?)null, app_id = "com.example.app.ios", pushkey = "missing" });
        Assert.Equal(["key-2"], (await PushersAsync(bob)).Select(p => p.GetProperty("pushkey").GetString()));
    }

    [Fact]
    public async Task Without_append_the_pushkey_moves_to_the_new_user_and_with_append_it_is_shared()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        const string url = "https://push.example.org/_matrix/push/v1/notify";
        await alice.OkAsync(Post, "/pushers/set", HttpPusher("shared", url));

        var appended = HttpPusher("shared", url);
        appended["append"] = true;
        await bob.OkAsync(Post, "/pushers/set", appended);
        Assert.Single(await PushersAsync(alice));
        Assert.Single(await PushersAsync(bob));

        await carol.OkAsync(Post, "/pushers/set", HttpPusher("shared", url));
        Assert.Empty(await PushersAsync(alice));
        Assert.Empty(await PushersAsync(bob));
        Assert.Single(await PushersAsync(carol));
    }

    [Fact]
    public async Task A_pusher_goes_with_the_device_that_set_it()
    {
        var bob = await UserAsync("bob");
        var laptop = new RoomsClient(Server.Client, await TestUsers.AddDeviceAsync(Server, bob.User, "LAPTOP"));
        const string url = "https://push.example.org/_matrix/push/v1/notify";
        await bob.OkAsync(Post, "/pushers/set", HttpPusher("phone-key", url));
        await laptop.OkAsync(Post, "/pushers/set", HttpPusher("laptop-key", url));
        Assert.Equal(2, (await PushersAsync(bob)).Count);

        await laptop.OkAsync(Post, "/logout", new { });

        Assert.Equal(["phone-key"], (await PushersAsync(bob)).Select(p => p.GetProperty("pushkey").GetString()));
    }

    public static TheoryData<string, HttpStatusCode, string> RefusedBodies => new()
    {
        { "{\"app_id\":\"a\",\"pushkey\":\"k\"}", HttpStatusCode.BadRequest, "M_MISSING_PARAM" },
        { "{\"kind\":\"http\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{\"url\":\"https://p.example/_matrix/push/v1/notify\"}}", HttpStatusCode.BadRequest, "M_MISSING_PARAM" },
        { "{\"kind\":null,\"app_id\":\"a\"}", HttpStatusCode.BadRequest, "M_MISSING_PARAM" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{\"url\":\"https://p.example/_matrix/push/v1/notify\"}}", HttpStatusCode.BadRequest, "M_MISSING_PARAM" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\"}", HttpStatusCode.BadRequest, "M_MISSING_PARAM" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{}}", HttpStatusCode.BadRequest, "M_MISSING_PARAM" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{\"url\":\"https://p.example/notify\"}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{\"url\":\"ftp://p.example/_matrix/push/v1/notify\"}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{\"url\":\"/_matrix/push/v1/notify\"}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{\"url\":\"https://p.example/_matrix/push/v1/notify\",\"format\":\"full\"}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { "{\"kind\":\"sms\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { "{\"kind\":\"email\",\"app_id\":\"m.email\",\"pushkey\":\"bob@example.org\",\"app_display_name\":\"Email\",\"device_display_name\":\"bob@example.org\",\"lang\":\"en\",\"data\":{}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { $"{{\"kind\":\"http\",\"app_id\":\"{new string('a', 65)}\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{{\"url\":\"https://p.example/_matrix/push/v1/notify\"}}}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { $"{{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"{new string('k', 513)}\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{{\"url\":\"https://p.example/_matrix/push/v1/notify\"}}}}", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { "{\"kind\":5,\"app_id\":\"a\",\"pushkey\":\"k\"}", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":\"https://p.example/_matrix/push/v1/notify\"}", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { "{\"kind\":\"http\",\"app_id\":\"a\",\"pushkey\":\"k\",\"app_display_name\":\"A\",\"device_display_name\":\"D\",\"lang\":\"en\",\"data\":{\"url\":\"https://p.example/_matrix/push/v1/notify\"},\"append\":\"yes\"}", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { "[]", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { "{\"kind\":", HttpStatusCode.BadRequest, "M_NOT_JSON" },
    };

    [Theory]
    [MemberData(nameof(RefusedBodies))]
    public async Task Bad_bodies_are_refused_and_nothing_is_stored(string body, HttpStatusCode status, string errcode)
    {
        var bob = await UserAsync("bob");
        using var response = await bob.RawAsync(Post, "/pushers/set", body);
        await response.AssertErrorAsync(status, errcode);
        Assert.Empty(await PushersAsync(bob));
    }

    [Fact]
    public async Task A_mention_reaches_the_push_gateway_with_the_event_counts_and_tweaks()
    {
        await using var gateway = await LocalPushGateway.StartAsync();
        var (alice, bob, roomId) = await RoomWithPusherAsync(gateway,
            new Dictionary<string, object> { ["url"] = gateway.Url, ["custom"] = "kept" });
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var eventId = await MentionAsync(alice, roomId, bob.UserId);

        var body = await gateway.NextAsync();
        var notification = body.GetProperty("notification");
        Assert.Equal((eventId, roomId, "m.room.message", alice.UserId, "Alice", "Lunch", "lunch?", "high"),
            (notification.GetProperty("event_id").GetString(), notification.GetProperty("room_id").GetString(),
             notification.GetProperty("type").GetString(), notification.GetProperty("sender").GetString(),
             notification.GetProperty("sender_display_name").GetString(), notification.GetProperty("room_name").GetString(),
             notification.GetProperty("content").GetProperty("body").GetString(), notification.GetProperty("prio").GetString()));
        Assert.Equal(1, notification.GetProperty("counts").GetProperty("unread").GetInt64());
        var device = Assert.Single(notification.GetProperty("devices").EnumerateArray().ToList());
        Assert.Equal(("com.example.app.ios", "bob-key"), (device.GetProperty("app_id").GetString(), device.GetProperty("pushkey").GetString()));
        Assert.InRange(device.GetProperty("pushkey_ts").GetInt64(), before - 60, before + 1);
        Assert.Equal("{\"custom\":\"kept\"}", device.GetProperty("data").GetRawText());
        var tweaks = device.GetProperty("tweaks");
        Assert.Equal("default", tweaks.GetProperty("sound").GetString());
        Assert.True(tweaks.GetProperty("highlight").GetBoolean());

        // The count is of the user's unread notifications; the sender is never notified of their own message.
        var second = await alice.SendTextAsync(roomId, "anyone?");
        var next = (await gateway.NextAsync()).GetProperty("notification");
        Assert.Equal((second, 2L), (next.GetProperty("event_id").GetString(), next.GetProperty("counts").GetProperty("unread").GetInt64()));
        await bob.SendTextAsync(roomId, "me");
        Assert.False(await gateway.ReceivesWithinAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task In_a_busy_room_each_member_with_a_pusher_gets_each_notification_once_and_the_others_none()
    {
        await using var gateway = await LocalPushGateway.StartAsync();
        var (alice, bob, roomId) = await RoomWithPusherAsync(gateway);
        var carol = await UserAsync("carol", "Carol");
        await carol.JoinAsync(roomId);
        await carol.OkAsync(Post, "/pushers/set", HttpPusher("carol-key", gateway.Url));
        for (var i = 0; i < 6; i++) await (await UserAsync($"quiet{i}", $"Quiet {i}")).JoinAsync(roomId);

        var sent = new List<string>();
        for (var i = 0; i < 15; i++) sent.Add(await alice.SendTextAsync(roomId, $"message {i}"));

        var pushed = new List<(string EventId, string Pushkey)>();
        for (var i = 0; i < 2 * sent.Count; i++)
        {
            var notification = (await gateway.NextAsync()).GetProperty("notification");
            var device = Assert.Single(notification.GetProperty("devices").EnumerateArray().ToList());
            pushed.Add((notification.GetProperty("event_id").GetString()!, device.GetProperty("pushkey").GetString()!));
        }
        Assert.Equal(
            sent.SelectMany(eventId => new[] { (eventId, "bob-key"), (eventId, "carol-key") }).Order(),
            pushed.Order());
        Assert.False(await gateway.ReceivesWithinAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Event_id_only_pushers_get_no_event_content()
    {
        await using var gateway = await LocalPushGateway.StartAsync();
        var (alice, bob, roomId) = await RoomWithPusherAsync(gateway,
            new Dictionary<string, object> { ["url"] = gateway.Url, ["format"] = "event_id_only" });

        var eventId = await MentionAsync(alice, roomId, bob.UserId, "secret plans");

        var notification = (await gateway.NextAsync()).GetProperty("notification");
        Assert.Equal((eventId, roomId, 1L),
            (notification.GetProperty("event_id").GetString(), notification.GetProperty("room_id").GetString(),
             notification.GetProperty("counts").GetProperty("unread").GetInt64()));
        foreach (var absent in new[] { "type", "sender", "sender_display_name", "room_name", "content" })
            Assert.False(notification.TryGetProperty(absent, out _), absent);
        var device = Assert.Single(notification.GetProperty("devices").EnumerateArray().ToList());
        Assert.Equal("{\"format\":\"event_id_only\"}", device.GetProperty("data").GetRawText());
        Assert.DoesNotContain("secret plans", notification.GetRawText());
    }

    [Fact]
    public async Task A_pushkey_the_gateway_rejects_loses_its_pusher()
    {
        await using var gateway = await LocalPushGateway.StartAsync();
        gateway.Respond = _ => (200, "{\"rejected\":[\"bob-key\"]}");
        var (alice, bob, roomId) = await RoomWithPusherAsync(gateway);
        var otherGateway = HttpPusher("other-key", "https://push.example.org/_matrix/push/v1/notify", appId: "org.example.other");
        await bob.OkAsync(Post, "/pushers/set", otherGateway);

        await MentionAsync(alice, roomId, bob.UserId);
        await gateway.NextAsync();

        var stopwatch = Stopwatch.StartNew();
        while ((await PushersAsync(bob)).Count != 1 && stopwatch.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        Assert.Equal(["other-key"], (await PushersAsync(bob)).Select(p => p.GetProperty("pushkey").GetString()));
    }

    [Fact]
    public async Task A_gateway_failing_twice_gets_the_notification_on_the_third_attempt_and_only_then()
    {
        await using var gateway = await LocalPushGateway.StartAsync();
        gateway.Respond = n => n <= 2 ? (503, "{}") : (200, "{\"rejected\":[]}");
        var (alice, bob, roomId) = await RoomWithPusherAsync(gateway);

        var eventId = await MentionAsync(alice, roomId, bob.UserId);

        var attempts = new List<string?>();
        for (var i = 0; i < 3; i++)
            attempts.Add((await gateway.NextAsync()).GetProperty("notification").GetProperty("event_id").GetString());
        Assert.Equal([eventId, eventId, eventId], attempts);
        Assert.False(await gateway.ReceivesWithinAsync(TimeSpan.FromSeconds(5)));
        Assert.Single(await PushersAsync(bob));
    }

    [Fact]
    public async Task Sending_stays_fast_while_the_gateway_hangs()
    {
        await using var gateway = await LocalPushGateway.StartAsync();
        gateway.Respond = _ => null;
        var (alice, bob, roomId) = await RoomWithPusherAsync(gateway);

        await MentionAsync(alice, roomId, bob.UserId, "first");
        await gateway.NextAsync();

        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++) await MentionAsync(alice, roomId, bob.UserId, $"message {i}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"5 sends took {stopwatch.Elapsed} while the gateway hung");
        Assert.Equal(6, (await bob.OkAsync(Get, "/notifications")).GetProperty("notifications").GetArrayLength());
    }
}

public sealed class SqlitePusherTests(SqliteServerFixture fixture) : PusherTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresPusherTests(PostgresServerFixture fixture) : PusherTests(fixture), IClassFixture<PostgresServerFixture>;
