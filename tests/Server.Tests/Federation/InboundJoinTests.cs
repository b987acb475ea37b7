using System.Net;
using System.Security.Cryptography;
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
/// A user of server A joins a room of server B over federation: A asks <c>make_join</c>, builds and signs the join
/// with its own key and sends it to <c>send_join</c>, as a remote homeserver would; B's local member then sees the
/// join in /sync. Joins that the spec refuses are answered with its errors and change nothing in the room. A server
/// with a joined member reads events and state; another server is refused.
/// </summary>
public abstract class InboundJoinTests<TPair>(TPair pair) where TPair : FederationPair
{
    [Fact]
    public async Task A_remote_user_joins_through_make_join_and_send_join_and_the_local_member_sees_it_in_sync()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var since = (await sync.SyncAsync()).GetProperty("next_batch").GetString()!;
        var remote = pair.RemoteUser("carol");
        var problemsBefore = ProblemsLoggedByB();

        var (version, template) = await MakeJoinAsync(roomId, remote);
        Assert.Equal(roomId, template["room_id"]!.GetValue<string>());
        Assert.Equal(remote, template["sender"]!.GetValue<string>());
        Assert.Equal(remote, template["state_key"]!.GetValue<string>());
        Assert.Equal("join", template["content"]!["membership"]!.GetValue<string>());
        Assert.Equal(pair.NameOfB, template["origin"]!.GetValue<string>());
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA);

        var response = await SendJoinAsync(roomId, eventId, join);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(response.Body)!.AsObject();
        Assert.False(body["members_omitted"]!.GetValue<bool>());
        Assert.Equal(pair.NameOfB, body["origin"]!.GetValue<string>());
        Assert.Equal(new[] { pair.NameOfB }, body["servers_in_room"]!.AsArray().Select(s => s!.GetValue<string>()));
        var state = body["state"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Contains(state, e => e["type"]!.GetValue<string>() == EventTypes.Create);
        Assert.Contains(state, e => e["type"]!.GetValue<string>() == EventTypes.Member && e["state_key"]!.GetValue<string>() == alice.UserId);
        Assert.DoesNotContain(state, e => e["state_key"]?.GetValue<string>() == remote);
        Assert.All(state, e => Assert.Null(e["unsigned"]));
        var authChainIds = body["auth_chain"]!.AsArray().Select(e => EventHashing.ComputeEventId(version, e!.AsObject()).Value).ToHashSet();
        Assert.All(join["auth_events"]!.AsArray(), id => Assert.Contains(id!.GetValue<string>(), authChainIds));
        var signed = body["event"]!.AsObject();
        Assert.Equal(eventId.Value, EventHashing.ComputeEventId(version, signed).Value);
        Assert.True(EventSigning.Verify(version, signed, pair.NameOfA, pair.KeyOfA.KeyId, pair.KeyOfA.PublicKey));
        Assert.True(EventSigning.Verify(version, signed, pair.NameOfB, pair.KeyOfB.KeyId, pair.KeyOfB.PublicKey));

        var timeline = await FederationTimelines.TimelineSinceAsync(sync, since, roomId);
        var seen = Assert.Single(timeline, e => e.GetProperty("type").GetString() == EventTypes.Member && e.GetProperty("state_key").GetString() == remote);
        Assert.Equal(eventId.Value, seen.GetProperty("event_id").GetString());
        Assert.Equal("join", seen.GetProperty("content").GetProperty("membership").GetString());
        var members = await alice.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members");
        Assert.True(members.GetProperty("joined").TryGetProperty(remote, out _));

        // The room's later events reach the local member as before; the remote member, who has no sync grain here, is skipped.
        var nextSince = (await sync.SyncSinceAsync(since, "timeout=0")).GetProperty("next_batch").GetString()!;
        var message = await alice.SendTextAsync(roomId, "welcome");
        Assert.Contains(await FederationTimelines.TimelineSinceAsync(sync, nextSince, roomId), e => e.GetProperty("event_id").GetString() == message);
        Assert.Empty(ProblemsLoggedByB().Except(problemsBefore));

        // The joining server asks again (it did not get the answer): the same answer, no second event.
        var eventsBefore = await EventCountAsync(roomId);
        var again = await SendJoinAsync(roomId, eventId, join);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(eventId.Value, EventHashing.ComputeEventId(version, JsonNode.Parse(again.Body)!["event"]!.AsObject()).Value);
        Assert.Equal(eventsBefore, await EventCountAsync(roomId));

        // Now that A has a member in the room, it reads events and state.
        var fetched = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, $"/_matrix/federation/v1/event/{Uri.EscapeDataString(eventId.Value)}", null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        var pdu = Assert.Single(JsonNode.Parse(fetched.Body)!["pdus"]!.AsArray())!.AsObject();
        Assert.Equal(eventId.Value, EventHashing.ComputeEventId(version, pdu).Value);
        Assert.Equal(pair.NameOfB, JsonNode.Parse(fetched.Body)!["origin"]!.GetValue<string>());

        var stateIds = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/state_ids/{Uri.EscapeDataString(roomId)}?event_id={Uri.EscapeDataString(eventId.Value)}", null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, stateIds.StatusCode);
        var ids = JsonNode.Parse(stateIds.Body)!.AsObject();
        var pduIds = ids["pdu_ids"]!.AsArray().Select(i => i!.GetValue<string>()).ToHashSet();
        // The state before the join: everything the send_join answer held, and not the join itself.
        Assert.Equal(state.Select(e => EventHashing.ComputeEventId(version, e).Value).ToHashSet(), pduIds);
        Assert.Equal(authChainIds.Except([eventId.Value]).Where(i => !pduIds.Contains(i)).Order(),
            ids["auth_chain_ids"]!.AsArray().Select(i => i!.GetValue<string>()).Where(i => !pduIds.Contains(i)).Order());

        var fullState = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/state/{Uri.EscapeDataString(roomId)}?event_id={Uri.EscapeDataString(eventId.Value)}", null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, fullState.StatusCode);
        Assert.Equal(pduIds, JsonNode.Parse(fullState.Body)!["pdus"]!.AsArray().Select(e => EventHashing.ComputeEventId(version, e!.AsObject()).Value).ToHashSet());
    }

    [Theory]
    [InlineData("1")]
    [InlineData("3")]
    [InlineData("11")]
    public async Task A_remote_user_joins_a_room_of_each_event_format(string roomVersion)
    {
        var (alice, _) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = roomVersion });
        var remote = pair.RemoteUser("oscar");
        var (version, template) = await MakeJoinAsync(roomId, remote);
        Assert.Equal(roomVersion, version.Id);
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA);

        var response = await SendJoinAsync(roomId, eventId, join);

        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(response.Body));
        var signed = JsonNode.Parse(response.Body)!["event"]!.AsObject();
        Assert.Equal(eventId, EventHashing.ComputeEventId(version, signed));
        var members = await alice.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members");
        Assert.True(members.GetProperty("joined").TryGetProperty(remote, out _));
    }

    [Fact]
    public async Task A_join_built_on_a_template_the_room_has_moved_past_is_refused_and_a_new_template_joins()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var remote = pair.RemoteUser("quinn");
        var (version, stale) = await MakeJoinAsync(roomId, remote);
        await alice.SendTextAsync(roomId, "meanwhile");
        var (staleId, staleJoin) = SignJoin(version, stale, pair.KeyOfA);

        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, staleId, staleJoin), HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var (_, fresh) = await MakeJoinAsync(roomId, remote);
        var (freshId, freshJoin) = SignJoin(version, fresh, pair.KeyOfA);
        Assert.Equal(HttpStatusCode.OK, (await SendJoinAsync(roomId, freshId, freshJoin)).StatusCode);
    }

    [Fact]
    public async Task A_local_client_cannot_join_a_user_of_another_server()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var remote = pair.RemoteUser("rita");
        var since = (await sync.SyncAsync()).GetProperty("next_batch").GetString()!;

        await alice.FailsAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/state/m.room.member/{RoomsClient.Escape(remote)}",
            new { membership = "join" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        Assert.Empty(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
    }

    [Fact]
    public async Task A_join_citing_an_auth_event_its_auth_does_not_need_is_refused()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var remote = pair.RemoteUser("peggy");
        var (version, template) = await MakeJoinAsync(roomId, remote);
        var aliceMember = (await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None))
            .Single(e => e.Type == EventTypes.Member && e.StateKey == alice.UserId).EventId;
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA, t => t["auth_events"]!.AsArray().Add(aliceMember));

        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, eventId, join), HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task The_deprecated_v1_send_join_answers_inside_an_array_with_200()
    {
        var (alice, _) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var (version, template) = await MakeJoinAsync(roomId, pair.RemoteUser("dave"));
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA);

        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v1/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", join, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(response.Body)!.AsArray();
        Assert.Equal(200, body[0]!.GetValue<int>());
        Assert.NotEmpty(body[1]!["state"]!.AsArray());
    }

    [Fact]
    public async Task Make_join_refuses_a_room_version_the_joining_server_does_not_support()
    {
        var (alice, _) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = "10" });

        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, MakeJoinPath(roomId, pair.RemoteUser("erin"), "1", "2"), null, CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(response.Body)!;
        Assert.Equal("M_INCOMPATIBLE_ROOM_VERSION", error["errcode"]!.GetValue<string>());
        Assert.Equal("10", error["room_version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Make_join_answers_404_for_an_unknown_room()
    {
        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            MakeJoinPath($"!nowhere{Guid.NewGuid():N}:{pair.NameOfB}", pair.RemoteUser("frank"), "10", "11"), null, CancellationToken.None);

        AssertError(response, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task An_invite_only_room_refuses_the_join_in_make_join_and_send_join_and_stays_unchanged()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "private_chat" });
        var remote = pair.RemoteUser("grace");

        await AssertJoinForbiddenAsync(roomId, remote, sync);
    }

    [Fact]
    public async Task A_banned_user_is_refused_in_make_join_and_send_join()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var remote = pair.RemoteUser("heidi");
        await alice.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/ban", new { user_id = remote });

        await AssertJoinForbiddenAsync(roomId, remote, sync);
    }

    [Fact]
    public async Task A_user_of_another_server_than_the_origin_is_refused()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        const string elsewhere = "@ivan:other.example";

        var made = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, MakeJoinPath(roomId, elsewhere, "10", "11"), null, CancellationToken.None);
        AssertError(made, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        var (version, template) = await TemplateFromStoreAsync(roomId, elsewhere);
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA);
        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, eventId, join), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task A_join_signed_with_a_key_the_origin_does_not_have_is_refused()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var (version, template) = await MakeJoinAsync(roomId, pair.RemoteUser("judy"));
        using var impostor = ServerSigningKey.FromSeed(pair.NameOfA, pair.KeyOfA.KeyId, RandomNumberGenerator.GetBytes(32));
        var (eventId, join) = SignJoin(version, template, impostor);

        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, eventId, join), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task A_join_whose_event_id_is_not_the_one_of_the_path_is_refused()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var (version, template) = await MakeJoinAsync(roomId, pair.RemoteUser("ken"));
        var (_, join) = SignJoin(version, template, pair.KeyOfA);
        var (otherId, _) = SignJoin(version, (JsonObject)template.DeepClone(), pair.KeyOfA, t => t["origin_server_ts"] = 1);

        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, otherId, join), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task An_event_that_is_not_a_join_is_refused()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var (version, template) = await MakeJoinAsync(roomId, pair.RemoteUser("leo"));
        var (eventId, leave) = SignJoin(version, template, pair.KeyOfA, t => t["content"] = new JsonObject { ["membership"] = "leave" });

        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, eventId, leave), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task A_join_whose_content_was_changed_after_signing_is_refused()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var (version, template) = await MakeJoinAsync(roomId, pair.RemoteUser("mallory"));
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA);
        // Outside what the signature and the event id cover (the redacted event): only the content hash catches it.
        join["content"]!["displayname"] = "Someone else";
        Assert.Equal(eventId, EventHashing.ComputeEventId(version, join));
        Assert.True(EventSigning.Verify(version, join, pair.NameOfA, pair.KeyOfA.KeyId, pair.KeyOfA.PublicKey));

        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, eventId, join), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task A_server_without_a_joined_member_cannot_read_events_or_state()
    {
        var (alice, _) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var eventId = await alice.SendTextAsync(roomId, "not for other servers");

        var fetched = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, $"/_matrix/federation/v1/event/{Uri.EscapeDataString(eventId)}", null, CancellationToken.None);
        var stateIds = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/state_ids/{Uri.EscapeDataString(roomId)}?event_id={Uri.EscapeDataString(eventId)}", null, CancellationToken.None);
        var state = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/state/{Uri.EscapeDataString(roomId)}?event_id={Uri.EscapeDataString(eventId)}", null, CancellationToken.None);

        AssertError(fetched, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        AssertError(stateIds, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        AssertError(state, HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task A_joined_server_gets_an_event_from_before_its_join_redacted_when_history_is_for_joined_members_only()
    {
        var (alice, _) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SetStateAsync(roomId, "m.room.history_visibility", new { history_visibility = "joined" });
        var secret = await alice.SendTextAsync(roomId, "before anyone of A joined");
        var (version, template) = await MakeJoinAsync(roomId, pair.RemoteUser("nina"));
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA);
        Assert.Equal(HttpStatusCode.OK, (await SendJoinAsync(roomId, eventId, join)).StatusCode);
        var after = await alice.SendTextAsync(roomId, "after the join");

        var hidden = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, $"/_matrix/federation/v1/event/{Uri.EscapeDataString(secret)}", null, CancellationToken.None);
        var visible = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, $"/_matrix/federation/v1/event/{Uri.EscapeDataString(after)}", null, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, hidden.StatusCode);
        var hiddenPdu = JsonNode.Parse(hidden.Body)!["pdus"]![0]!.AsObject();
        Assert.Equal(secret, EventHashing.ComputeEventId(version, hiddenPdu).Value);
        Assert.Empty(hiddenPdu["content"]!.AsObject());
        Assert.Equal(HttpStatusCode.OK, visible.StatusCode);
        Assert.Equal("after the join", JsonNode.Parse(visible.Body)!["pdus"]![0]!["content"]!["body"]!.GetValue<string>());
    }

    /// <summary>make_join refuses the user, and so does send_join of a join built from the room's state as if it had not.</summary>
    private async Task AssertJoinForbiddenAsync(string roomId, string remote, SyncUser sync)
    {
        var made = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, MakeJoinPath(roomId, remote, "10", "11"), null, CancellationToken.None);
        AssertError(made, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        var (version, template) = await TemplateFromStoreAsync(roomId, remote);
        var (eventId, join) = SignJoin(version, template, pair.KeyOfA);
        await AssertRefusedAsync(roomId, sync, () => SendJoinAsync(roomId, eventId, join), HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    private async Task<(RoomsClient Rooms, SyncUser Sync)> LocalMemberAsync()
    {
        var user = await TestUsers.CreateAsync(pair.B, "alice");
        var http = pair.ClientFor(pair.B);
        return (new RoomsClient(http, user), new SyncUser(http, user.UserId, user.DeviceId, user.AccessToken));
    }

    // B then sends the room's events to A, which here only stands in for a joining server and need not accept them;
    // what B sends is checked by OutboundTransactionTests.
    private List<string> ProblemsLoggedByB() =>
        pair.B.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && !e.Category.StartsWith("HomeServer.Grains.Federation.Outbound", StringComparison.Ordinal)).Select(e => $"{e.Category}: {e.Message} {e.Exception}").ToList();

    private static string MakeJoinPath(string roomId, string userId, params string[] versions) =>
        $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(userId)}?"
        + string.Join("&", versions.Select(v => $"ver={v}"));

    private async Task<(RoomVersion Version, JsonObject Template)> MakeJoinAsync(string roomId, string userId)
    {
        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            MakeJoinPath(roomId, userId, RoomVersion.Supported.Select(v => v.Id).ToArray()), null, CancellationToken.None);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"make_join: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(response.Body)}");
        var body = JsonNode.Parse(response.Body)!.AsObject();
        Assert.True(RoomVersion.TryGet(body["room_version"]!.GetValue<string>(), out var version));
        return (version, body["event"]!.AsObject());
    }

    /// <summary>The template a remote server would build without asking make_join, from B's store (room versions 3+).</summary>
    private async Task<(RoomVersion Version, JsonObject Template)> TemplateFromStoreAsync(string roomId, string userId)
    {
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);
        var create = state.Single(e => e.Type == EventTypes.Create);
        Assert.True(RoomVersion.TryGet(JsonNode.Parse(create.Json)!["content"]!["room_version"]!.GetValue<string>(), out var version));
        Assert.False(version.EventIdInEvent);
        var last = (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, long.MaxValue, Direction.Backward, 1, CancellationToken.None))[0];
        var authTypes = new[] { (EventTypes.Create, ""), (EventTypes.PowerLevels, ""), (EventTypes.JoinRules, ""), (EventTypes.Member, userId) };
        var authEvents = state.Where(e => authTypes.Contains((e.Type, e.StateKey ?? ""))).Select(e => (JsonNode)e.EventId).ToArray();
        var template = new JsonObject
        {
            ["auth_events"] = new JsonArray(authEvents),
            ["content"] = new JsonObject { ["membership"] = "join" },
            ["depth"] = JsonNode.Parse(last.Json)!["depth"]!.GetValue<long>() + 1,
            ["origin"] = pair.NameOfA,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["prev_events"] = new JsonArray(last.EventId),
            ["room_id"] = roomId,
            ["sender"] = userId,
            ["state_key"] = userId,
            ["type"] = EventTypes.Member,
        };
        return (version, template);
    }

    /// <summary>What the joining server does with the template: hashes it and signs it with its key.</summary>
    private (EventId EventId, JsonObject Event) SignJoin(RoomVersion version, JsonObject template, ServerSigningKey key, Action<JsonObject>? change = null)
    {
        var pdu = (JsonObject)template.DeepClone();
        change?.Invoke(pdu);
        if (version.EventIdInEvent) pdu["event_id"] = $"${Guid.NewGuid():N}:{pair.NameOfA}";
        pdu["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu, version.StrictCanonicalJson)) };
        pdu["signatures"] = new JsonObject();
        EventSigning.Sign(version, pdu, key);
        return (EventHashing.ComputeEventId(version, pdu), pdu);
    }

    private Task<FederationResponse> SendJoinAsync(string roomId, EventId eventId, JsonObject join) =>
        pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", join, CancellationToken.None);

    /// <summary>The request is refused with the error, and neither the room's events nor its local member's /sync change.</summary>
    private async Task AssertRefusedAsync(string roomId, SyncUser member, Func<Task<FederationResponse>> request, HttpStatusCode status, string errcode)
    {
        var since = (await member.SyncAsync()).GetProperty("next_batch").GetString()!;
        var events = await EventCountAsync(roomId);
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);

        AssertError(await request(), status, errcode);

        Assert.Equal(events, await EventCountAsync(roomId));
        Assert.Equal(state.Select(e => e.EventId).Order(), (await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None)).Select(e => e.EventId).Order());
        Assert.Empty(await FederationTimelines.TimelineSinceAsync(member, since, roomId));
    }

    private static void AssertError(FederationResponse response, HttpStatusCode status, string errcode)
    {
        var text = System.Text.Encoding.UTF8.GetString(response.Body);
        Assert.True(response.StatusCode == status, $"expected {(int)status} {errcode}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(errcode, JsonNode.Parse(text)!["errcode"]!.GetValue<string>());
    }

    private async Task<int> EventCountAsync(string roomId) =>
        (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None)).Count;

}

public sealed class SqliteInboundJoinTests(SqliteFederationPair pair)
    : InboundJoinTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresInboundJoinTests(PostgresFederationPair pair)
    : InboundJoinTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
