using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Knocks across servers: a user of B knocks on a room of A through make_knock/send_knock and sees it in /sync under
/// <c>rooms.knock</c> with the room's stripped state; A's admin sees the knock and invites, B's user then sees the room
/// under <c>rooms.invite</c> and joins. A knock can be rescinded (a leave through A), and a room that does not take
/// knocks refuses with 403.
/// </summary>
public abstract class FederatedKnockTests<TPair>(TPair pair) where TPair : FederationPair
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_user_of_B_knocks_is_invited_by_A_and_joins()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var roomId = await KnockableRoomAsync(alice, "Knock here");
        var since = await NextBatchAsync(bob);

        await bob.Rooms.OkAsync(HttpMethod.Post, KnockPath(roomId), new { reason = "let me in" });

        var knocked = await bob.SyncSinceAsync(since, "timeout=0");
        var knockState = Section(knocked, "knock", roomId, "knock_state");
        Assert.Contains(knockState, e => e.GetProperty("type").GetString() == "m.room.create");
        Assert.Contains(knockState, e => e.GetProperty("type").GetString() == "m.room.name"
                                         && e.GetProperty("content").GetProperty("name").GetString() == "Knock here");
        var ownKnock = Assert.Single(knockState, e => e.GetProperty("type").GetString() == "m.room.member");
        Assert.Equal(bob.UserId, ownKnock.GetProperty("state_key").GetString());
        Assert.Equal("knock", ownKnock.GetProperty("content").GetProperty("membership").GetString());
        // An initial sync shows the knock too.
        Assert.NotEmpty(Section(await bob.SyncAsync("timeout=0"), "knock", roomId, "knock_state"));

        // A has the knock in the room, with its reason.
        var onA = await alice.Rooms.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal("knock", onA.GetProperty("membership").GetString());
        Assert.Equal("let me in", onA.GetProperty("reason").GetString());

        since = knocked.GetProperty("next_batch").GetString()!;
        await alice.Rooms.InviteAsync(roomId, bob.UserId);
        var invited = await WaitForSyncAsync(bob, since, sync => Section(sync, "invite", roomId, "invite_state").Count > 0, "the invite in B's /sync");
        Assert.Empty(Section(invited, "knock", roomId, "knock_state"));
        var initial = await bob.SyncAsync("timeout=0");
        Assert.NotEmpty(Section(initial, "invite", roomId, "invite_state"));
        Assert.Empty(Section(initial, "knock", roomId, "knock_state"));

        await bob.Rooms.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(pair.NameOfA)}", new { });
        var joined = await bob.SyncAsync("timeout=0");
        Assert.True(joined.GetProperty("rooms").GetProperty("join").TryGetProperty(roomId, out _));
        Assert.Empty(Section(joined, "invite", roomId, "invite_state"));
        Assert.Equal("join", (await alice.Rooms.GetStateEventAsync(roomId, "m.room.member", bob.UserId)).GetProperty("membership").GetString());
    }

    [Fact]
    public async Task A_knock_is_rescinded_through_the_room_server_and_a_room_without_knocks_refuses()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var roomId = await KnockableRoomAsync(alice, "Knock and go");
        await bob.Rooms.OkAsync(HttpMethod.Post, KnockPath(roomId), new { });
        var since = await NextBatchAsync(bob);

        await bob.Rooms.LeaveAsync(roomId);
        Assert.Equal("leave", (await alice.Rooms.GetStateEventAsync(roomId, "m.room.member", bob.UserId)).GetProperty("membership").GetString());
        var left = await bob.SyncSinceAsync(since, "timeout=0");
        Assert.True(left.GetProperty("rooms").GetProperty("leave").TryGetProperty(roomId, out _));

        var inviteOnly = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", room_version = "10" });
        await bob.Rooms.FailsAsync(HttpMethod.Post, KnockPath(inviteOnly), new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        using var member = await alice.Rooms.RequestAsync(HttpMethod.Get,
            $"/rooms/{RoomsClient.Escape(inviteOnly)}/state/m.room.member/{RoomsClient.Escape(bob.UserId)}");
        Assert.Equal(HttpStatusCode.NotFound, member.StatusCode);
    }

    private string KnockPath(string roomId) => $"/knock/{RoomsClient.Escape(roomId)}?via={RoomsClient.Escape(pair.NameOfA)}";

    private static Task<string> KnockableRoomAsync(SyncUser creator, string name) =>
        creator.Rooms.CreateRoomAsync(new
        {
            preset = "private_chat",
            room_version = "10",
            name,
            initial_state = new object[] { new { type = "m.room.join_rules", state_key = "", content = new { join_rule = "knock" } } },
        });

    private static List<JsonElement> Section(JsonElement sync, string kind, string roomId, string section) =>
        sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty(kind, out var ofKind) && ofKind.TryGetProperty(roomId, out var room)
            ? room.GetProperty(section).GetProperty("events").EnumerateArray().ToList()
            : [];

    private static async Task<string> NextBatchAsync(SyncUser user) => (await user.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

    private static async Task<JsonElement> WaitForSyncAsync(SyncUser user, string since, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var sync = await user.SyncSinceAsync(since, "timeout=1000");
            if (done(sync)) return sync;
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
        }
    }

    private async Task<SyncUser> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        return new SyncUser(pair.ClientFor(server), user.UserId, user.DeviceId, user.AccessToken);
    }
}

public sealed class SqliteFederatedKnockTests(SqliteFederationPair pair)
    : FederatedKnockTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederatedKnockTests(PostgresFederationPair pair)
    : FederatedKnockTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
