using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A user of server A who joined a room of server B leaves it over federation: A asks <c>make_leave</c>, signs the
/// leave and sends it to <c>send_leave</c>; B's member sees the leave in /sync. Leaves the spec refuses change nothing.
/// </summary>
public abstract class FederatedLeaveTests<TPair>(TPair pair) where TPair : FederationPair
{
    [Fact]
    public async Task A_remote_member_leaves_through_make_leave_and_send_leave_and_the_local_member_sees_it()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var remote = pair.RemoteUser("carol");
        await JoinAsync(roomId, remote);
        var since = (await sync.SyncAsync()).GetProperty("next_batch").GetString()!;

        var (version, template) = await MakeLeaveAsync(roomId, remote);
        Assert.Equal("leave", template["content"]!["membership"]!.GetValue<string>());
        Assert.Equal(remote, template["sender"]!.GetValue<string>());
        Assert.Equal(remote, template["state_key"]!.GetValue<string>());
        var (eventId, leave) = FederationEvents.Sign(version, template, pair.KeyOfA, pair.NameOfA);
        var response = await SendLeaveAsync(roomId, eventId, leave, "v2");

        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(response.Body));
        Assert.Equal("{}", System.Text.Encoding.UTF8.GetString(response.Body));
        var timeline = await FederationTimelines.TimelineSinceAsync(sync, since, roomId);
        var seen = Assert.Single(timeline, e => e.GetProperty("type").GetString() == EventTypes.Member && e.GetProperty("state_key").GetString() == remote);
        Assert.Equal(eventId.Value, seen.GetProperty("event_id").GetString());
        Assert.Equal("leave", seen.GetProperty("content").GetProperty("membership").GetString());
        var members = await alice.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members");
        Assert.False(members.GetProperty("joined").TryGetProperty(remote, out _));

        // Sent again: answered again, no second event.
        var events = await EventCountAsync(alice, roomId);
        Assert.Equal(HttpStatusCode.OK, (await SendLeaveAsync(roomId, eventId, leave, "v2")).StatusCode);
        Assert.Equal(events, await EventCountAsync(alice, roomId));
    }

    [Fact]
    public async Task The_deprecated_v1_send_leave_answers_inside_an_array_with_200()
    {
        var (alice, _) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = "1" });
        var remote = pair.RemoteUser("dave");
        await JoinAsync(roomId, remote);
        var (version, template) = await MakeLeaveAsync(roomId, remote);
        var (eventId, leave) = FederationEvents.Sign(version, template, pair.KeyOfA, pair.NameOfA);

        var response = await SendLeaveAsync(roomId, eventId, leave, "v1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(response.Body)!.AsArray();
        Assert.Equal(200, body[0]!.GetValue<int>());
        Assert.Empty(body[1]!.AsObject());
        var members = await alice.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members");
        Assert.False(members.GetProperty("joined").TryGetProperty(remote, out _));
    }

    [Fact]
    public async Task Make_leave_refuses_a_user_who_is_not_in_the_room_and_a_user_of_another_server()
    {
        var (alice, _) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });

        AssertError(await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, MakeLeavePath(roomId, pair.RemoteUser("erin")), null, CancellationToken.None),
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        AssertError(await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, MakeLeavePath(roomId, alice.UserId), null, CancellationToken.None),
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task A_leave_of_a_user_of_another_server_or_with_a_bad_signature_is_refused_and_changes_nothing()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var remote = pair.RemoteUser("frank");
        await JoinAsync(roomId, remote);
        var (version, template) = await MakeLeaveAsync(roomId, remote);

        // A leave of B's own member, sent by A.
        var ofAlice = (JsonObject)template.DeepClone();
        ofAlice["sender"] = alice.UserId;
        ofAlice["state_key"] = alice.UserId;
        var (aliceLeaveId, aliceLeave) = FederationEvents.Sign(version, ofAlice, pair.KeyOfA, pair.NameOfA);
        await AssertRefusedAsync(alice, sync, roomId, () => SendLeaveAsync(roomId, aliceLeaveId, aliceLeave, "v2"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        using var otherKey = ServerSigningKey.FromSeed(pair.NameOfA, pair.KeyOfA.KeyId, ServerSigningKey.NewSeed().Seed);
        var (forgedId, forged) = FederationEvents.Sign(version, template, otherKey, pair.NameOfA);
        await AssertRefusedAsync(alice, sync, roomId, () => SendLeaveAsync(roomId, forgedId, forged, "v2"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var joined = (JsonObject)template.DeepClone();
        joined["content"] = new JsonObject { ["membership"] = "join" };
        var (joinId, join) = FederationEvents.Sign(version, joined, pair.KeyOfA, pair.NameOfA);
        await AssertRefusedAsync(alice, sync, roomId, () => SendLeaveAsync(roomId, joinId, join, "v2"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    private async Task JoinAsync(string roomId, string userId)
    {
        var made = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(userId)}?"
            + string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}")), null, CancellationToken.None);
        Assert.True(made.IsSuccess, System.Text.Encoding.UTF8.GetString(made.Body));
        var body = JsonNode.Parse(made.Body)!;
        Assert.True(RoomVersion.TryGet(body["room_version"]!.GetValue<string>(), out var version));
        var (eventId, join) = FederationEvents.Sign(version, body["event"]!.AsObject(), pair.KeyOfA, pair.NameOfA);
        var sent = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", join, CancellationToken.None);
        Assert.True(sent.IsSuccess, System.Text.Encoding.UTF8.GetString(sent.Body));
    }

    private static string MakeLeavePath(string roomId, string userId) =>
        $"/_matrix/federation/v1/make_leave/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(userId)}";

    private async Task<(RoomVersion Version, JsonObject Template)> MakeLeaveAsync(string roomId, string userId)
    {
        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, MakeLeavePath(roomId, userId), null, CancellationToken.None);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"make_leave: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(response.Body)}");
        var body = JsonNode.Parse(response.Body)!.AsObject();
        Assert.True(RoomVersion.TryGet(body["room_version"]!.GetValue<string>(), out var version));
        return (version, body["event"]!.AsObject());
    }

    private Task<FederationResponse> SendLeaveAsync(string roomId, EventId eventId, JsonObject leave, string apiVersion) =>
        pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/{apiVersion}/send_leave/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", leave, CancellationToken.None);

    private async Task AssertRefusedAsync(RoomsClient member, SyncUser sync, string roomId, Func<Task<FederationResponse>> request, HttpStatusCode status, string errcode)
    {
        var since = (await sync.SyncAsync()).GetProperty("next_batch").GetString()!;
        var events = await EventCountAsync(member, roomId);
        AssertError(await request(), status, errcode);
        Assert.Equal(events, await EventCountAsync(member, roomId));
        Assert.Empty(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
    }

    private static void AssertError(FederationResponse response, HttpStatusCode status, string errcode)
    {
        var text = System.Text.Encoding.UTF8.GetString(response.Body);
        Assert.True(response.StatusCode == status, $"expected {(int)status} {errcode}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(errcode, JsonNode.Parse(text)!["errcode"]!.GetValue<string>());
    }

    private async Task<int> EventCountAsync(RoomsClient member, string roomId) =>
        (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, 0, HomeServer.Storage.Direction.Forward, 1000, CancellationToken.None)).Count;

    private async Task<(RoomsClient Rooms, SyncUser Sync)> LocalMemberAsync()
    {
        var user = await TestUsers.CreateAsync(pair.B, "alice");
        var http = pair.ClientFor(pair.B);
        return (new RoomsClient(http, user), new SyncUser(http, user.UserId, user.DeviceId, user.AccessToken));
    }

}

public sealed class SqliteFederatedLeaveTests(SqliteFederationPair pair)
    : FederatedLeaveTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederatedLeaveTests(PostgresFederationPair pair)
    : FederatedLeaveTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
