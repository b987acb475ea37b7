using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using static HomeServer.Server.Tests.Presence.PresenceStatusTests;

namespace HomeServer.Server.Tests.Presence;

/// <summary>The presence section of /sync and its set_presence parameter, as clients see them.</summary>
public abstract partial class SyncPresenceTests : SyncTestBase
{
    private static List<JsonElement> PresenceEvents(JsonElement sync) =>
        sync.GetProperty("presence").GetProperty("events").EnumerateArray().ToList();

    private static JsonElement? PresenceOf(JsonElement sync, string userId) =>
        PresenceEvents(sync).Where(e => e.GetProperty("sender").GetString() == userId).Select(e => (JsonElement?)e).LastOrDefault();

    /// <summary>Follows the sync loop until the user's presence shows <paramref name="presence"/> (and the status, when given), within 10 s.</summary>
    private static async Task<(JsonElement Event, string Token)> SyncUntilPresenceAsync(
        SyncUser viewer, string token, string userId, string presence, string? statusMsg = null, string extra = "")
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var sync = await viewer.SyncSinceAsync(token, "timeout=2000" + (extra.Length > 0 ? "&" + extra : ""));
            token = NextBatch(sync);
            if (PresenceOf(sync, userId) is { } found && found.GetProperty("content").GetProperty("presence").GetString() == presence
                && (statusMsg is null || (found.GetProperty("content").TryGetProperty("status_msg", out var s) && s.GetString() == statusMsg)))
                return (found, token);
        }
        throw new Xunit.Sdk.XunitException($"{viewer.UserId} never saw {userId} {presence} {statusMsg}");
    }

    /// <summary>Every presence event the viewer receives within <paramref name="milliseconds"/> from the token.</summary>
    private static async Task<List<JsonElement>> PresenceWithinAsync(SyncUser viewer, string token, int milliseconds)
    {
        var seen = new List<JsonElement>();
        var deadline = DateTime.UtcNow.AddMilliseconds(milliseconds);
        while (DateTime.UtcNow < deadline)
        {
            var sync = await viewer.SyncSinceAsync(token, "timeout=500&set_presence=offline");
            token = NextBatch(sync);
            seen.AddRange(PresenceEvents(sync));
        }
        return seen;
    }

    private async Task<(SyncUser Alice, SyncUser Bob, string RoomId)> TwoMembersAsync()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        return (alice, bob, roomId);
    }

    [Fact]
    public async Task An_initial_sync_carries_the_own_and_room_members_presence_as_m_presence_events()
    {
        var (alice, bob, _) = await TwoMembersAsync();
        await SetPresenceAsync(alice, new { presence = "unavailable", status_msg = "in a meeting" });

        var sync = await bob.SyncAsync();

        var own = PresenceOf(sync, bob.UserId) ?? throw new Xunit.Sdk.XunitException("no own presence");
        Assert.Equal("m.presence", own.GetProperty("type").GetString());
        Assert.Equal("online", own.GetProperty("content").GetProperty("presence").GetString());
        Assert.True(own.GetProperty("content").GetProperty("currently_active").GetBoolean());
        Assert.InRange(own.GetProperty("content").GetProperty("last_active_ago").GetInt64(), 0, 10_000);
        var others = PresenceOf(sync, alice.UserId) ?? throw new Xunit.Sdk.XunitException("no presence of alice");
        Assert.Equal("unavailable", others.GetProperty("content").GetProperty("presence").GetString());
        Assert.Equal("in a meeting", others.GetProperty("content").GetProperty("status_msg").GetString());
        Assert.False(others.GetProperty("content").TryGetProperty("currently_active", out _));
        Assert.Equal(2, PresenceEvents(sync).Count);
    }

    [Fact]
    public async Task A_presence_change_wakes_a_parked_sync_of_a_room_member_and_is_sent_once()
    {
        var (alice, bob, _) = await TwoMembersAsync();
        await alice.SyncAsync();
        var token = NextBatch(await bob.SyncAsync());
        token = NextBatch(await bob.SyncSinceAsync(token, "timeout=0"));

        var parked = bob.SyncSinceAsync(token, "timeout=20000&set_presence=offline");
        await Task.Delay(300);
        var started = DateTime.UtcNow;
        await SetPresenceAsync(alice, new { presence = "online", status_msg = "back" });
        var sync = await parked;

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "the parked sync was woken, not timed out");
        var seen = PresenceOf(sync, alice.UserId) ?? throw new Xunit.Sdk.XunitException("no presence of alice");
        Assert.Equal("back", seen.GetProperty("content").GetProperty("status_msg").GetString());
        var after = await PresenceWithinAsync(bob, NextBatch(sync), 800);
        Assert.DoesNotContain(after, e => e.GetProperty("sender").GetString() == alice.UserId);
    }

    [Fact]
    public async Task A_user_without_a_shared_room_sees_nothing_of_others_presence()
    {
        var (alice, _, _) = await TwoMembersAsync();
        var dave = await RegisterAsync("dave");
        var initial = await dave.SyncAsync();
        Assert.Equal([dave.UserId], PresenceEvents(initial).Select(e => e.GetProperty("sender").GetString()));

        await SetPresenceAsync(alice, new { presence = "online", status_msg = "secret" });
        var seen = await PresenceWithinAsync(dave, NextBatch(initial), 1500);

        Assert.DoesNotContain(seen, e => e.GetProperty("sender").GetString() == alice.UserId);
    }

    [Fact]
    public async Task Joining_a_room_brings_its_members_presence_to_the_joiner_and_the_joiners_to_them()
    {
        var alice = await RegisterAsync("alice");
        var carol = await RegisterAsync("carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await SetPresenceAsync(alice, new { presence = "online", status_msg = "hosting" });
        // Both changes are older than both tokens: only the join can bring them.
        var carolInitial = await carol.SyncAsync("set_presence=unavailable");
        var aliceToken = NextBatch(await alice.SyncAsync());
        Assert.Null(PresenceOf(carolInitial, alice.UserId));
        var aliceBefore = await PresenceWithinAsync(alice, aliceToken, 500);
        Assert.DoesNotContain(aliceBefore, e => e.GetProperty("sender").GetString() == carol.UserId);

        await carol.Rooms.JoinAsync(roomId);

        var (toCarol, _) = await SyncUntilPresenceAsync(carol, NextBatch(carolInitial), alice.UserId, "online", "hosting", "set_presence=unavailable");
        Assert.Equal("m.presence", toCarol.GetProperty("type").GetString());
        await SyncUntilPresenceAsync(alice, aliceToken, carol.UserId, "unavailable");
    }

    [Fact]
    public async Task Set_presence_decides_what_a_sync_does_to_the_presence()
    {
        var alice = await RegisterAsync("alice");

        await alice.SyncAsync("set_presence=offline");
        Assert.Equal("offline", (await GetPresenceAsync(alice, alice.UserId)).GetProperty("presence").GetString());

        var token = NextBatch(await alice.SyncAsync("set_presence=unavailable"));
        Assert.Equal("unavailable", (await GetPresenceAsync(alice, alice.UserId)).GetProperty("presence").GetString());

        // The default is online, and an online sync counts as activity.
        await alice.SyncSinceAsync(token, "timeout=0");
        var online = await GetPresenceAsync(alice, alice.UserId);
        Assert.Equal("online", online.GetProperty("presence").GetString());
        Assert.True(online.GetProperty("currently_active").GetBoolean());
        Assert.InRange(online.GetProperty("last_active_ago").GetInt64(), 0, 10_000);

        // Offline leaves it alone, and keeps the status message that a sync never touches.
        await SetPresenceAsync(alice, new { presence = "unavailable", status_msg = "away" });
        await alice.SyncAsync("set_presence=offline");
        var kept = await GetPresenceAsync(alice, alice.UserId);
        Assert.Equal(("unavailable", "away"), (kept.GetProperty("presence").GetString(), kept.GetProperty("status_msg").GetString()));
        await alice.SyncAsync();
        var back = await GetPresenceAsync(alice, alice.UserId);
        Assert.Equal(("online", "away"), (back.GetProperty("presence").GetString(), back.GetProperty("status_msg").GetString()));

        var bad = await alice.GetAsync("/_matrix/client/v3/sync?set_presence=busy");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task A_token_issued_before_presence_existed_is_accepted_and_catches_up_presence()
    {
        var (alice, bob, _) = await TwoMembersAsync();
        await SetPresenceAsync(alice, new { presence = "online", status_msg = "hi" });
        var token = NextBatch(await bob.SyncAsync());
        Assert.Matches(PresencePart(), token);

        var old = PresencePart().Replace(token, "");
        var sync = await bob.SyncSinceAsync(old, "timeout=0&set_presence=offline");

        Assert.Equal("hi", PresenceOf(sync, alice.UserId)?.GetProperty("content").GetProperty("status_msg").GetString());
        Assert.Matches(PresencePart(), NextBatch(sync));
    }

    [Fact]
    public async Task The_presence_filter_selects_types_senders_and_limit()
    {
        var (alice, bob, _) = await TwoMembersAsync();
        var carol = await RegisterAsync("carol");
        await carol.Rooms.JoinAsync((await alice.Rooms.CreateRoomAsync(new { preset = "public_chat", invite = new[] { carol.UserId } })));
        await SetPresenceAsync(alice, new { presence = "online" });
        await SetPresenceAsync(carol, new { presence = "unavailable" });
        await bob.SyncAsync();

        string Filter(object presence) => "filter=" + Uri.EscapeDataString(JsonSerializer.Serialize(new { presence }));
        var none = await bob.SyncAsync(Filter(new { types = new[] { "m.other" } }));
        Assert.Empty(PresenceEvents(none));
        var notBob = await bob.SyncAsync(Filter(new { not_senders = new[] { bob.UserId } }));
        Assert.Equal([alice.UserId], PresenceEvents(notBob).Select(e => e.GetProperty("sender").GetString()));
        var onlyAlice = await bob.SyncAsync(Filter(new { senders = new[] { alice.UserId }, types = new[] { "m.*" } }));
        Assert.Equal([alice.UserId], PresenceEvents(onlyAlice).Select(e => e.GetProperty("sender").GetString()));
        var uploaded = await bob.CreateFilterAsync(JsonNode.Parse("""{"presence":{"limit":1}}""")!);
        var limited = await bob.SyncAsync("filter=" + uploaded);
        Assert.Single(PresenceEvents(limited));
        // Carol shares no room with bob: she is never in his presence section.
        Assert.DoesNotContain(PresenceEvents(await bob.SyncAsync()), e => e.GetProperty("sender").GetString() == carol.UserId);
    }

    [GeneratedRegex("_p[0-9]+$")]
    private static partial Regex PresencePart();
}

public sealed class SqliteSyncPresenceTests : SyncPresenceTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncPresenceTests : SyncPresenceTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
