using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Invites across servers: a member of a room of A invites a user of B, who sees the invite in /sync (once, with the
/// room's name) and rejects it through A, or joins through A's make_join/send_join. B receives invites that another
/// server built (here A's signed requests stand in for it) and refuses those the spec's checks refuse, storing nothing.
/// </summary>
public abstract class FederatedInviteTests<TPair>(TPair pair) where TPair : FederationPair
{
    [Fact]
    public async Task A_user_of_B_invited_to_a_room_of_A_sees_the_invite_once_and_rejecting_it_shows_the_leave_in_A()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Federated room" });
        var since = (await bob.SyncAsync()).GetProperty("next_batch").GetString()!;

        await alice.Rooms.InviteAsync(roomId, bob.UserId);

        var member = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, bob.UserId);
        Assert.Equal("invite", member.GetProperty("membership").GetString());
        var sync = await bob.SyncSinceAsync(since, "timeout=10000");
        var state = InviteState(sync, roomId);
        Assert.Contains(state, e => e.GetProperty("type").GetString() == "m.room.name" && e.GetProperty("content").GetProperty("name").GetString() == "Federated room");
        Assert.Contains(state, e => e.GetProperty("type").GetString() == EventTypes.Create);
        var invite = Assert.Single(state, e => e.GetProperty("type").GetString() == EventTypes.Member && e.GetProperty("state_key").GetString() == bob.UserId);
        Assert.Equal(alice.UserId, invite.GetProperty("sender").GetString());
        Assert.Equal("invite", invite.GetProperty("content").GetProperty("membership").GetString());

        // Exactly once: the next incremental sync does not repeat it; an initial sync shows it while pending.
        var next = sync.GetProperty("next_batch").GetString()!;
        Assert.Null(InviteStateOrNull(await bob.SyncSinceAsync(next, "timeout=0"), roomId));
        Assert.NotNull(InviteStateOrNull(await bob.SyncAsync(), roomId));

        // The invite B's server signed is the one A appended.
        var stored = await pair.StoreOfB.RemoteInvites.GetAsync(bob.UserId, roomId, CancellationToken.None);
        Assert.NotNull(stored);
        var roomState = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state");
        var appended = roomState.EnumerateArray().Single(e => e.GetProperty("type").GetString() == EventTypes.Member && e.GetProperty("state_key").GetString() == bob.UserId);
        Assert.Equal(stored!.EventId, appended.GetProperty("event_id").GetString());

        await bob.Rooms.LeaveAsync(roomId);

        member = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, bob.UserId);
        Assert.Equal("leave", member.GetProperty("membership").GetString());
        var afterReject = await bob.SyncSinceAsync(next, "timeout=0");
        Assert.Null(InviteStateOrNull(afterReject, roomId));
        var left = afterReject.GetProperty("rooms").GetProperty("leave").GetProperty(roomId);
        var leave = Assert.Single(left.GetProperty("timeline").GetProperty("events").EnumerateArray());
        Assert.Equal("leave", leave.GetProperty("content").GetProperty("membership").GetString());
        Assert.Null(InviteStateOrNull(await bob.SyncAsync(), roomId));
    }

    [Fact]
    public async Task A_room_created_with_an_invitee_of_B_invites_them_through_B_and_a_direct_chat_says_so()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var since = (await bob.SyncAsync()).GetProperty("next_batch").GetString()!;

        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "trusted_private_chat", is_direct = true, invite = new[] { bob.UserId } });

        var state = InviteState(await bob.SyncSinceAsync(since, "timeout=10000"), roomId);
        var invite = Assert.Single(state, e => e.GetProperty("type").GetString() == EventTypes.Member && e.GetProperty("state_key").GetString() == bob.UserId);
        Assert.True(invite.GetProperty("content").GetProperty("is_direct").GetBoolean());
        var member = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, bob.UserId);
        Assert.Equal("invite", member.GetProperty("membership").GetString());
        Assert.True(member.GetProperty("is_direct").GetBoolean());
        var power = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.PowerLevels);
        Assert.Equal(100, power.GetProperty("users").GetProperty(bob.UserId).GetInt32());

        await bob.Rooms.JoinAsync(roomId);
        var joined = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members");
        Assert.True(joined.GetProperty("joined").TryGetProperty(bob.UserId, out _));
    }

    [Fact]
    public async Task A_room_created_with_an_invitee_of_an_unreachable_server_is_created_without_that_invite()
    {
        var alice = await UserAsync(pair.A, "alice");
        var unreachable = "@nobody:127.0.0.1:1";

        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Still created", invite = new[] { unreachable } });

        Assert.Equal("Still created", (await alice.Rooms.GetStateEventAsync(roomId, "m.room.name")).GetProperty("name").GetString());
        await alice.Rooms.FailsAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state/{EventTypes.Member}/{RoomsClient.Escape(unreachable)}",
            null, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task An_invite_the_invitee_server_refuses_or_that_cannot_be_sent_is_a_clear_error_and_nothing_is_appended()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        var noSuchUser = $"@nobody-{Guid.NewGuid():N}:{pair.NameOfB}";
        var unreachable = "@someone:127.0.0.1:1";
        var stateBefore = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state");

        await alice.Rooms.FailsAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/invite", new { user_id = noSuchUser }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.Rooms.FailsAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/invite", new { user_id = unreachable }, HttpStatusCode.InternalServerError, "M_UNKNOWN");

        var stateAfter = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state");
        Assert.Equal(stateBefore.GetArrayLength(), stateAfter.GetArrayLength());
        Assert.DoesNotContain(stateAfter.EnumerateArray(), e => e.GetProperty("state_key").GetString() is { } key && (key == noSuchUser || key == unreachable));
    }

    [Fact]
    public async Task A_kept_invite_survives_a_restart_of_the_invitee_server()
    {
        var (third, _) = await pair.StartAsync(allowPrivateAddresses: true);
        var alice = await UserAsync(pair.A, "alice");
        var dan = await UserAsync(third, "dan");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Before the restart" });
        await alice.Rooms.InviteAsync(roomId, dan.UserId);

        await using var restarted = await third.RestartAsync();

        var after = new SyncUser(pair.ClientFor(restarted), dan.UserId, dan.DeviceId, dan.AccessToken);
        var state = InviteState(await after.SyncAsync(), roomId);
        Assert.Contains(state, e => e.GetProperty("type").GetString() == "m.room.name" && e.GetProperty("content").GetProperty("name").GetString() == "Before the restart");
    }

    [Fact]
    public async Task An_invited_user_of_B_joins_the_room_of_A_through_make_join_and_send_join()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        await alice.Rooms.InviteAsync(roomId, bob.UserId);

        var federationOfB = pair.B.App.Services.GetRequiredService<FederationClient>();
        var made = await federationOfB.SendAsync(pair.NameOfA, HttpMethod.Get,
            $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(bob.UserId)}?"
            + string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}")), null, CancellationToken.None);
        Assert.True(made.IsSuccess, System.Text.Encoding.UTF8.GetString(made.Body));
        var body = JsonNode.Parse(made.Body)!;
        Assert.True(RoomVersion.TryGet(body["room_version"]!.GetValue<string>(), out var version));
        var (eventId, join) = FederationEvents.Sign(version, body["event"]!.AsObject(), pair.KeyOfB, pair.NameOfB);

        var sent = await federationOfB.SendAsync(pair.NameOfA, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", join, CancellationToken.None);

        Assert.True(sent.IsSuccess, System.Text.Encoding.UTF8.GetString(sent.Body));
        var members = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members");
        Assert.True(members.GetProperty("joined").TryGetProperty(bob.UserId, out _));
    }

    [Fact]
    public async Task A_user_of_B_invites_a_user_of_A_and_A_signs_and_keeps_the_invite()
    {
        var bob = await UserAsync(pair.B, "bob");
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await bob.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Room of B" });
        var since = (await alice.SyncAsync()).GetProperty("next_batch").GetString()!;

        await bob.Rooms.InviteAsync(roomId, alice.UserId);

        var state = InviteState(await alice.SyncSinceAsync(since, "timeout=10000"), roomId);
        Assert.Contains(state, e => e.GetProperty("type").GetString() == "m.room.name" && e.GetProperty("content").GetProperty("name").GetString() == "Room of B");
        var stored = await pair.A.App.Services.GetRequiredService<IHomeServerStore>().RemoteInvites.GetAsync(alice.UserId, roomId, CancellationToken.None);
        Assert.NotNull(stored);
        var pdu = JsonNode.Parse(stored!.InviteEvent)!.AsObject();
        Assert.True(RoomVersion.TryGet(stored.RoomVersion, out var version));
        Assert.True(EventSigning.Verify(version, pdu, pair.NameOfA, pair.KeyOfA.KeyId, pair.KeyOfA.PublicKey));
        Assert.True(EventSigning.Verify(version, pdu, pair.NameOfB, pair.KeyOfB.KeyId, pair.KeyOfB.PublicKey));
    }

    [Fact]
    public async Task An_invite_B_receives_directly_is_answered_with_B_signature_and_shown_to_the_invitee()
    {
        var bob = await UserAsync(pair.B, "bob");
        var since = (await bob.SyncAsync()).GetProperty("next_batch").GetString()!;
        var roomId = RoomOfA();
        var (eventId, invite) = Invite(roomId, pair.RemoteUser("carol"), bob.UserId, pair.KeyOfA);

        var response = await SendInviteAsync(roomId, eventId, invite, "10");

        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(response.Body));
        var signed = JsonNode.Parse(response.Body)!["event"]!.AsObject();
        Assert.Equal(eventId, EventHashing.ComputeEventId(RoomVersion.V10, signed));
        Assert.True(EventSigning.Verify(RoomVersion.V10, signed, pair.NameOfB, pair.KeyOfB.KeyId, pair.KeyOfB.PublicKey));
        Assert.True(EventSigning.Verify(RoomVersion.V10, signed, pair.NameOfA, pair.KeyOfA.KeyId, pair.KeyOfA.PublicKey));
        var state = InviteState(await bob.SyncSinceAsync(since, "timeout=10000"), roomId);
        Assert.Contains(state, e => e.GetProperty("type").GetString() == "m.room.name" && e.GetProperty("content").GetProperty("name").GetString() == "Somewhere on A");

        // Sent again (the inviting server did not get the answer): answered again, stored once.
        var position = (await pair.StoreOfB.RemoteInvites.GetAsync(bob.UserId, roomId, CancellationToken.None))!.StreamPosition;
        Assert.Equal(HttpStatusCode.OK, (await SendInviteAsync(roomId, eventId, invite, "10")).StatusCode);
        Assert.Equal(position, (await pair.StoreOfB.RemoteInvites.GetAsync(bob.UserId, roomId, CancellationToken.None))!.StreamPosition);
    }

    [Fact]
    public async Task The_deprecated_v1_invite_reads_the_stripped_state_from_unsigned_and_answers_inside_an_array()
    {
        var bob = await UserAsync(pair.B, "bob");
        var since = (await bob.SyncAsync()).GetProperty("next_batch").GetString()!;
        var roomId = RoomOfA();
        var sender = pair.RemoteUser("carol");
        var hash = new JsonObject { ["sha256"] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" };
        var template = new JsonObject
        {
            ["auth_events"] = new JsonArray(new JsonArray($"$create:{pair.NameOfA}", hash.DeepClone())),
            ["content"] = new JsonObject { ["membership"] = "invite" },
            ["depth"] = 3,
            ["origin"] = pair.NameOfA,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["prev_events"] = new JsonArray(new JsonArray($"$previous:{pair.NameOfA}", hash.DeepClone())),
            ["room_id"] = roomId,
            ["sender"] = sender,
            ["state_key"] = bob.UserId,
            ["type"] = EventTypes.Member,
        };
        var (eventId, invite) = FederationEvents.Sign(RoomVersion.V1, template, pair.KeyOfA, pair.NameOfA);
        var body = (JsonObject)invite.DeepClone();
        body["unsigned"] = new JsonObject
        {
            ["invite_room_state"] = new JsonArray(
                new JsonObject { ["type"] = "m.room.name", ["state_key"] = "", ["sender"] = sender, ["content"] = new JsonObject { ["name"] = "Old room" } }),
        };

        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v1/invite/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", body, CancellationToken.None);

        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(response.Body));
        var answer = JsonNode.Parse(response.Body)!.AsArray();
        Assert.Equal(200, answer[0]!.GetValue<int>());
        var signed = answer[1]!["event"]!.AsObject();
        Assert.Equal(eventId.Value, signed["event_id"]!.GetValue<string>());
        Assert.True(EventSigning.Verify(RoomVersion.V1, signed, pair.NameOfB, pair.KeyOfB.KeyId, pair.KeyOfB.PublicKey));
        var state = InviteState(await bob.SyncSinceAsync(since, "timeout=10000"), roomId);
        Assert.Contains(state, e => e.GetProperty("type").GetString() == "m.room.name" && e.GetProperty("content").GetProperty("name").GetString() == "Old room");
    }

    [Fact]
    public async Task An_invite_with_a_signature_of_another_key_is_refused_and_nothing_is_kept()
    {
        var bob = await UserAsync(pair.B, "bob");
        // A's key id, another private key: what a server that is not A would sign with.
        using var otherKey = ServerSigningKey.FromSeed(pair.NameOfA, pair.KeyOfA.KeyId, ServerSigningKey.NewSeed().Seed);
        var roomId = RoomOfA();
        var (eventId, invite) = Invite(roomId, pair.RemoteUser("mallory"), bob.UserId, otherKey);

        await AssertRefusedAsync(bob, roomId, () => SendInviteAsync(roomId, eventId, invite, "10"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task An_invite_whose_sender_is_not_of_the_origin_is_refused_and_nothing_is_kept()
    {
        var bob = await UserAsync(pair.B, "bob");
        var roomId = RoomOfA();
        var (eventId, invite) = Invite(roomId, "@mallory:elsewhere.example", bob.UserId, pair.KeyOfA);

        await AssertRefusedAsync(bob, roomId, () => SendInviteAsync(roomId, eventId, invite, "10"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task An_invite_for_a_user_of_another_server_is_refused_and_nothing_is_kept()
    {
        var bob = await UserAsync(pair.B, "bob");
        var roomId = RoomOfA();
        var notOfB = pair.RemoteUser("dave");
        var (eventId, invite) = Invite(roomId, pair.RemoteUser("carol"), notOfB, pair.KeyOfA);

        await AssertRefusedAsync(bob, roomId, () => SendInviteAsync(roomId, eventId, invite, "10"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        Assert.Null(await pair.StoreOfB.RemoteInvites.GetAsync(notOfB, roomId, CancellationToken.None));
    }

    [Fact]
    public async Task An_invite_to_a_room_of_an_unsupported_version_is_refused_with_incompatible_room_version()
    {
        var bob = await UserAsync(pair.B, "bob");
        var roomId = RoomOfA();
        var (eventId, invite) = Invite(roomId, pair.RemoteUser("carol"), bob.UserId, pair.KeyOfA);

        var response = await AssertRefusedAsync(bob, roomId, () => SendInviteAsync(roomId, eventId, invite, "999"), HttpStatusCode.BadRequest, "M_INCOMPATIBLE_ROOM_VERSION");
        Assert.Equal("999", JsonNode.Parse(response.Body)!["room_version"]!.GetValue<string>());
    }

    private string RoomOfA() => $"!{Guid.NewGuid():N}:{pair.NameOfA}";

    /// <summary>An invite as server A would build it for a room of its own (room version 10).</summary>
    private (EventId EventId, JsonObject Event) Invite(string roomId, string sender, string invitee, ServerSigningKey key)
    {
        var template = new JsonObject
        {
            ["auth_events"] = new JsonArray(SomeEventId()),
            ["content"] = new JsonObject { ["membership"] = "invite" },
            ["depth"] = 7,
            ["origin"] = pair.NameOfA,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["prev_events"] = new JsonArray(SomeEventId()),
            ["room_id"] = roomId,
            ["sender"] = sender,
            ["state_key"] = invitee,
            ["type"] = EventTypes.Member,
        };
        return FederationEvents.Sign(RoomVersion.V10, template, key, pair.NameOfA);
    }

    /// <summary>An event id of the room version 4+ format (of an event B does not have).</summary>
    private static string SomeEventId() =>
        "$" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private Task<FederationResponse> SendInviteAsync(string roomId, EventId eventId, JsonObject invite, string roomVersion) =>
        pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/invite/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}",
            new JsonObject
            {
                ["event"] = invite.DeepClone(),
                ["invite_room_state"] = new JsonArray(
                    new JsonObject { ["type"] = "m.room.name", ["state_key"] = "", ["sender"] = invite["sender"]!.DeepClone(), ["content"] = new JsonObject { ["name"] = "Somewhere on A" } }),
                ["room_version"] = roomVersion,
            },
            CancellationToken.None);

    /// <summary>Refused with the error; B keeps no invite and the invitee's /sync shows none.</summary>
    private async Task<FederationResponse> AssertRefusedAsync(SyncUser invitee, string roomId, Func<Task<FederationResponse>> request, HttpStatusCode status, string errcode)
    {
        var since = (await invitee.SyncAsync()).GetProperty("next_batch").GetString()!;
        var response = await request();
        var text = System.Text.Encoding.UTF8.GetString(response.Body);
        Assert.True(response.StatusCode == status, $"expected {(int)status} {errcode}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(errcode, JsonNode.Parse(text)!["errcode"]!.GetValue<string>());
        Assert.Null(await pair.StoreOfB.RemoteInvites.GetAsync(invitee.UserId, roomId, CancellationToken.None));
        Assert.Null(InviteStateOrNull(await invitee.SyncSinceAsync(since, "timeout=0"), roomId));
        return response;
    }

    private async Task<SyncUser> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        return new SyncUser(pair.ClientFor(server), user.UserId, user.DeviceId, user.AccessToken);
    }

    private static List<JsonElement> InviteState(JsonElement sync, string roomId) =>
        InviteStateOrNull(sync, roomId) ?? throw new Xunit.Sdk.XunitException($"No invite to {roomId} in {sync}");

    private static List<JsonElement>? InviteStateOrNull(JsonElement sync, string roomId) =>
        sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("invite", out var invites) && invites.TryGetProperty(roomId, out var room)
            ? room.GetProperty("invite_state").GetProperty("events").EnumerateArray().ToList()
            : null;
}

public sealed class SqliteFederatedInviteTests(SqliteFederationPair pair)
    : FederatedInviteTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederatedInviteTests(PostgresFederationPair pair)
    : FederatedInviteTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
