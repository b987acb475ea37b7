using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Server A reads rooms of server B as other homeservers do, with signed requests: history (<c>/backfill</c>,
/// <c>/get_missing_events</c>), auth chains, <c>/timestamp_to_event</c>, the room directory and space hierarchies; and
/// a third party checks an OpenID token. A server without a joined member is refused, and history visibility hides
/// what came before its member joined.
/// </summary>
public abstract class FederationReadTests<TPair>(TPair pair) where TPair : FederationPair
{
    private const string Federation = "/_matrix/federation/v1";

    [Fact]
    public async Task Backfill_gives_the_named_event_and_those_before_it_newest_first_in_a_transaction()
    {
        var (alice, roomId, version, join) = await RoomWithRemoteMemberAsync();
        var first = await alice.SendTextAsync(roomId, "first");
        var second = await alice.SendTextAsync(roomId, "second");
        await alice.SendTextAsync(roomId, "third, after the v event");

        var response = await GetAsync($"/backfill/{E(roomId)}?v={E(second)}&limit=3");

        var body = Ok(response);
        Assert.Equal(pair.NameOfB, body["origin"]!.GetValue<string>());
        Assert.InRange(body["origin_server_ts"]!.GetValue<long>(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());
        var pdus = body["pdus"]!.AsArray().Select(p => p!.AsObject()).ToList();
        Assert.Equal(new[] { second, first, join }, pdus.Select(p => EventHashing.ComputeEventId(version, p).Value));
        var newest = pdus[0];
        Assert.Equal(roomId, newest["room_id"]!.GetValue<string>());
        Assert.Equal(alice.UserId, newest["sender"]!.GetValue<string>());
        Assert.Equal("m.room.message", newest["type"]!.GetValue<string>());
        Assert.Equal("second", newest["content"]!["body"]!.GetValue<string>());
        Assert.Equal(first, Assert.Single(newest["prev_events"]!.AsArray())!.GetValue<string>());
        Assert.Equal(pdus[1]["depth"]!.GetValue<long>() + 1, newest["depth"]!.GetValue<long>());
        Assert.All(pdus, p => Assert.Null(p["unsigned"]));
        Assert.True(EventSigning.Verify(version, newest, pair.NameOfB, pair.KeyOfB.KeyId, pair.KeyOfB.PublicKey));

        // A limit above the cap is not an error: every event up to the v event, down to the room's creation.
        var all = Ok(await GetAsync($"/backfill/{E(roomId)}?v={E(second)}&limit=1000000"))["pdus"]!.AsArray();
        var storedUpToSecond = (await StoredEventsAsync(roomId)).TakeWhile(e => e.EventId != second).Count() + 1;
        Assert.Equal(storedUpToSecond, all.Count);
        Assert.Equal(EventTypes.Create, all[^1]!["type"]!.GetValue<string>());

        // Several v events: the walk starts at the newest of them.
        var both = Ok(await GetAsync($"/backfill/{E(roomId)}?v={E(first)}&v={E(second)}&limit=2"))["pdus"]!.AsArray();
        Assert.Equal(new[] { second, first }, both.Select(p => EventHashing.ComputeEventId(version, p!.AsObject()).Value));
    }

    [Fact]
    public async Task Backfill_refuses_bad_parameters_with_the_spec_errors()
    {
        var (alice, roomId, _, _) = await RoomWithRemoteMemberAsync();
        var message = await alice.SendTextAsync(roomId, "hello");

        AssertError(await GetAsync($"/backfill/{E(roomId)}?limit=10"), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        AssertError(await GetAsync($"/backfill/{E(roomId)}?v={E(message)}"), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        AssertError(await GetAsync($"/backfill/{E(roomId)}?v={E(message)}&limit=0"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync($"/backfill/{E(roomId)}?v={E(message)}&limit=-5"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync($"/backfill/{E(roomId)}?v={E(message)}&limit=ten"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync($"/backfill/{E(roomId)}?v=not-an-event-id&limit=10"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync($"/backfill/{E(roomId)}?v={E("$unknown:" + pair.NameOfB)}&limit=10"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        AssertError(await GetAsync($"/backfill/{E("!nosuchroom:" + pair.NameOfB)}?v={E(message)}&limit=10"), HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Get_missing_events_gives_the_events_between_earliest_and_latest_oldest_first()
    {
        var (alice, roomId, version, _) = await RoomWithRemoteMemberAsync();
        var m1 = await alice.SendTextAsync(roomId, "one");
        var m2 = await alice.SendTextAsync(roomId, "two");
        var m3 = await alice.SendTextAsync(roomId, "three");
        var m4 = await alice.SendTextAsync(roomId, "four");

        var between = Ok(await PostAsync($"/get_missing_events/{E(roomId)}", new JsonObject { ["earliest_events"] = Ids(m1), ["latest_events"] = Ids(m4) }));
        var events = between["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(new[] { m2, m3 }, events.Select(e => EventHashing.ComputeEventId(version, e).Value));
        Assert.Equal("two", events[0]["content"]!["body"]!.GetValue<string>());
        Assert.All(events, e => Assert.Null(e["unsigned"]));
        Assert.Single(between);

        var limited = Ok(await PostAsync($"/get_missing_events/{E(roomId)}", new JsonObject { ["earliest_events"] = Ids(m1), ["latest_events"] = Ids(m4), ["limit"] = 1 }));
        Assert.Equal(new[] { m3 }, limited["events"]!.AsArray().Select(e => EventHashing.ComputeEventId(version, e!.AsObject()).Value));

        var depthOfM3 = events[1]["depth"]!.GetValue<long>();
        var deep = Ok(await PostAsync($"/get_missing_events/{E(roomId)}", new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(m4), ["min_depth"] = depthOfM3 }));
        Assert.Equal(new[] { m3 }, deep["events"]!.AsArray().Select(e => EventHashing.ComputeEventId(version, e!.AsObject()).Value));

        // Without earliest events and limit: the default of 10, the newest ten before latest_events.
        var defaults = Ok(await PostAsync($"/get_missing_events/{E(roomId)}", new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(m4) }));
        var expected = (await StoredEventsAsync(roomId)).TakeWhile(e => e.EventId != m4).TakeLast(10).Select(e => e.EventId);
        Assert.Equal(expected, defaults["events"]!.AsArray().Select(e => EventHashing.ComputeEventId(version, e!.AsObject()).Value));
    }

    [Fact]
    public async Task Get_missing_events_refuses_bad_bodies_with_the_spec_errors()
    {
        var (alice, roomId, _, _) = await RoomWithRemoteMemberAsync();
        var message = await alice.SendTextAsync(roomId, "hello");
        var path = $"/get_missing_events/{E(roomId)}";

        AssertError(await PostAsync(path, new JsonObject { ["earliest_events"] = Ids() }), HttpStatusCode.BadRequest, "M_BAD_JSON");
        AssertError(await PostAsync(path, new JsonObject { ["latest_events"] = Ids(message) }), HttpStatusCode.BadRequest, "M_BAD_JSON");
        AssertError(await PostAsync(path, new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(message), ["limit"] = 0 }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await PostAsync(path, new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(message), ["limit"] = -3 }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await PostAsync(path, new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(message), ["limit"] = "ten" }), HttpStatusCode.BadRequest, "M_BAD_JSON");
        AssertError(await PostAsync(path, new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids("not-an-event-id") }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await PostAsync(path, new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids("$unknown:" + pair.NameOfB) }), HttpStatusCode.NotFound, "M_NOT_FOUND");
        AssertError(await PostAsync($"/get_missing_events/{E("!nosuchroom:" + pair.NameOfB)}", new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(message) }),
            HttpStatusCode.NotFound, "M_NOT_FOUND");

        // A huge limit is capped, not refused.
        Ok(await PostAsync(path, new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(message), ["limit"] = 1_000_000 }));
    }

    [Fact]
    public async Task Event_auth_gives_the_full_auth_chain_of_the_event()
    {
        var (alice, roomId, version, _) = await RoomWithRemoteMemberAsync();
        var message = await alice.SendTextAsync(roomId, "hello");

        var body = Ok(await GetAsync($"/event_auth/{E(roomId)}/{E(message)}"));

        var chain = body["auth_chain"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var ids = chain.Select(e => EventHashing.ComputeEventId(version, e).Value).ToList();
        Assert.Equal(await AuthChainInStoreAsync(message), ids.ToHashSet());
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.DoesNotContain(message, ids);
        Assert.Contains(chain, e => e["type"]!.GetValue<string>() == EventTypes.Create);
        Assert.Contains(chain, e => e["type"]!.GetValue<string>() == EventTypes.Member && e["state_key"]!.GetValue<string>() == alice.UserId);
        Assert.All(chain, e => Assert.Null(e["unsigned"]));

        AssertError(await GetAsync($"/event_auth/{E(roomId)}/not-an-event-id"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync($"/event_auth/{E(roomId)}/{E("$unknown:" + pair.NameOfB)}"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        AssertError(await GetAsync($"/event_auth/{E("!nosuchroom:" + pair.NameOfB)}/{E(message)}"), HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("3")]
    [InlineData("11")]
    public async Task Backfill_and_event_auth_work_in_each_event_format(string roomVersion)
    {
        var alice = await LocalUserAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = roomVersion });
        var (version, join) = await JoinFromAAsync(roomId);
        Assert.Equal(roomVersion, version.Id);
        var message = await alice.SendTextAsync(roomId, "hello");

        var pdus = Ok(await GetAsync($"/backfill/{E(roomId)}?v={E(message)}&limit=2"))["pdus"]!.AsArray().Select(p => p!.AsObject()).ToList();
        Assert.Equal(new[] { message, join }, pdus.Select(p => EventHashing.ComputeEventId(version, p).Value));
        Assert.True(EventSigning.Verify(version, pdus[0], pair.NameOfB, pair.KeyOfB.KeyId, pair.KeyOfB.PublicKey));

        var chain = Ok(await GetAsync($"/event_auth/{E(roomId)}/{E(message)}"))["auth_chain"]!.AsArray();
        Assert.Equal(await AuthChainInStoreAsync(message), chain.Select(e => EventHashing.ComputeEventId(version, e!.AsObject()).Value).ToHashSet());
    }

    [Fact]
    public async Task Timestamp_to_event_finds_the_closest_event_in_each_direction()
    {
        var (alice, roomId, _, _) = await RoomWithRemoteMemberAsync();
        var last = await alice.SendTextAsync(roomId, "the newest");
        var stored = await StoredEventsAsync(roomId);

        var backward = Ok(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts={DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds()}&dir=b"));
        Assert.Equal(last, backward["event_id"]!.GetValue<string>());
        Assert.Equal(stored[^1].OriginServerTs, backward["origin_server_ts"]!.GetValue<long>());
        Assert.Equal(2, backward.Count);

        var forward = Ok(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts=0&dir=f"));
        Assert.Equal(stored[0].EventId, forward["event_id"]!.GetValue<string>());
        Assert.Equal(stored[0].OriginServerTs, forward["origin_server_ts"]!.GetValue<long>());

        AssertError(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts=0&dir=b"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        AssertError(await GetAsync($"/timestamp_to_event/{E(roomId)}?dir=f"), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        AssertError(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts=0"), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        AssertError(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts=0&dir=x"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts=soon&dir=f"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync($"/timestamp_to_event/{E("!nosuchroom:" + pair.NameOfB)}?ts=0&dir=f"), HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task A_server_without_a_joined_member_cannot_read_the_room()
    {
        var alice = await LocalUserAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var message = await alice.SendTextAsync(roomId, "not for other servers");

        AssertError(await GetAsync($"/backfill/{E(roomId)}?v={E(message)}&limit=10"), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        AssertError(await PostAsync($"/get_missing_events/{E(roomId)}", new JsonObject { ["earliest_events"] = Ids(), ["latest_events"] = Ids(message) }),
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        AssertError(await GetAsync($"/event_auth/{E(roomId)}/{E(message)}"), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        AssertError(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts=0&dir=f"), HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task History_for_joined_members_only_hides_the_events_from_before_the_servers_member_joined()
    {
        var alice = await LocalUserAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SetStateAsync(roomId, "m.room.history_visibility", new { history_visibility = "joined" });
        var secret = await alice.SendTextAsync(roomId, "before anyone of A joined");
        var (version, join) = await JoinFromAAsync(roomId);
        var after = await alice.SendTextAsync(roomId, "after the join");

        // Events before the visibility change were shared history; from it until A's member joined, nothing.
        var stored = await StoredEventsAsync(roomId);
        var change = stored.Last(e => e.Type == "m.room.history_visibility").RoomPosition;
        var sharedBefore = stored.Where(e => e.RoomPosition <= change).Select(e => e.EventId).ToList();
        Assert.True(stored.Single(e => e.EventId == secret).RoomPosition > change);

        var backfilled = Ok(await GetAsync($"/backfill/{E(roomId)}?v={E(after)}&limit=100"))["pdus"]!.AsArray()
            .Select(p => EventHashing.ComputeEventId(version, p!.AsObject()).Value).ToList();
        Assert.Equal([after, join, .. Enumerable.Reverse(sharedBefore)], backfilled);

        var missing = Ok(await PostAsync($"/get_missing_events/{E(roomId)}", new JsonObject { ["earliest_events"] = Ids(sharedBefore[^1]), ["latest_events"] = Ids(after) }))["events"]!
            .AsArray().Select(p => EventHashing.ComputeEventId(version, p!.AsObject()).Value).ToList();
        Assert.Equal(new[] { join }, missing);

        var secretTs = stored.Single(e => e.EventId == secret).OriginServerTs;
        var found = Ok(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts={secretTs}&dir=f"))["event_id"]!.GetValue<string>();
        Assert.NotEqual(secret, found);
        Assert.Contains(found, new[] { join, after, sharedBefore[^1] });

        // Backfilling from the hidden event itself: it is left out, the shared history before it is given.
        Assert.Empty(Ok(await GetAsync($"/backfill/{E(roomId)}?v={E(secret)}&limit=1"))["pdus"]!.AsArray());
        Assert.Equal(Enumerable.Reverse(sharedBefore).Take(2),
            Ok(await GetAsync($"/backfill/{E(roomId)}?v={E(secret)}&limit=3"))["pdus"]!.AsArray().Select(p => EventHashing.ComputeEventId(version, p!.AsObject()).Value));
    }

    [Fact]
    public async Task Shared_history_is_given_from_the_rooms_creation()
    {
        var alice = await LocalUserAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var before = await alice.SendTextAsync(roomId, "before anyone of A joined");
        var (version, join) = await JoinFromAAsync(roomId);

        var backfilled = Ok(await GetAsync($"/backfill/{E(roomId)}?v={E(join)}&limit=100"))["pdus"]!.AsArray()
            .Select(p => p!.AsObject()).ToList();
        Assert.Contains(before, backfilled.Select(p => EventHashing.ComputeEventId(version, p).Value));
        Assert.Equal(EventTypes.Create, backfilled[^1]["type"]!.GetValue<string>());
        Assert.Equal((await StoredEventsAsync(roomId))[0].EventId, Ok(await GetAsync($"/timestamp_to_event/{E(roomId)}?ts=0&dir=f"))["event_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Public_rooms_lists_the_directory_in_the_federation_form()
    {
        var alice = await LocalUserAsync();
        var name = $"Federated directory {Guid.NewGuid():N}";
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", visibility = "public", name, topic = "shared with servers" });
        await alice.CreateRoomAsync(new { preset = "public_chat", visibility = "public", name = "another" });

        var searched = Ok(await PostAsync("/publicRooms", new JsonObject { ["filter"] = new JsonObject { ["generic_search_term"] = name }, ["limit"] = 10 }));
        var room = Assert.Single(searched["chunk"]!.AsArray())!.AsObject();
        Assert.Equal(roomId, room["room_id"]!.GetValue<string>());
        Assert.Equal(name, room["name"]!.GetValue<string>());
        Assert.Equal("shared with servers", room["topic"]!.GetValue<string>());
        Assert.Equal(1, room["num_joined_members"]!.GetValue<int>());
        Assert.False(room["world_readable"]!.GetValue<bool>());
        Assert.False(room["guest_can_join"]!.GetValue<bool>());
        Assert.Equal("public", room["join_rule"]!.GetValue<string>());

        var listed = Ok(await GetAsync("/publicRooms?limit=1&include_all_networks=true"));
        Assert.Single(listed["chunk"]!.AsArray());
        var next = listed["next_batch"]!.GetValue<string>();
        var page2 = Ok(await GetAsync($"/publicRooms?limit=1&since={E(next)}"));
        Assert.NotEqual(listed["chunk"]![0]!["room_id"]!.GetValue<string>(), page2["chunk"]![0]!["room_id"]!.GetValue<string>());

        // This server bridges no third-party network: a named instance has no rooms.
        var bridged = Ok(await GetAsync("/publicRooms?third_party_instance_id=irc-freenode"));
        Assert.Empty(bridged["chunk"]!.AsArray());

        AssertError(await GetAsync("/publicRooms?limit=-1"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await GetAsync("/publicRooms?include_all_networks=maybe"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        AssertError(await PostAsync("/publicRooms", new JsonObject { ["limit"] = -1 }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Hierarchy_gives_the_space_its_accessible_children_and_the_inaccessible_ones()
    {
        var alice = await LocalUserAsync();
        var spaceId = await alice.CreateRoomAsync(new { preset = "public_chat", name = "Space", creation_content = new Dictionary<string, object> { ["type"] = "m.space" } });
        var open = await alice.CreateRoomAsync(new { preset = "public_chat", name = "Open" });
        var closed = await alice.CreateRoomAsync(new { preset = "private_chat", name = "Closed" });
        var unknown = "!elsewhere:" + pair.NameOfA;
        await alice.SetStateAsync(spaceId, "m.space.child", new { via = new[] { pair.NameOfB }, suggested = true }, open);
        await alice.SetStateAsync(spaceId, "m.space.child", new { via = new[] { pair.NameOfB } }, closed);
        await alice.SetStateAsync(spaceId, "m.space.child", new { via = new[] { pair.NameOfA } }, unknown);

        var body = Ok(await GetAsync($"/hierarchy/{E(spaceId)}"));

        var room = body["room"]!.AsObject();
        Assert.Equal(spaceId, room["room_id"]!.GetValue<string>());
        Assert.Equal("Space", room["name"]!.GetValue<string>());
        Assert.Equal("m.space", room["room_type"]!.GetValue<string>());
        Assert.Equal("public", room["join_rule"]!.GetValue<string>());
        var childrenState = room["children_state"]!.AsArray().Select(c => c!.AsObject()).ToList();
        Assert.Equal(new[] { closed, open, unknown }.Order(StringComparer.Ordinal), childrenState.Select(c => c["state_key"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(childrenState, c =>
        {
            Assert.Equal("m.space.child", c["type"]!.GetValue<string>());
            Assert.Equal(alice.UserId, c["sender"]!.GetValue<string>());
            Assert.True(c["origin_server_ts"]!.GetValue<long>() > 0);
            Assert.NotNull(c["content"]!["via"]);
        });
        var child = Assert.Single(body["children"]!.AsArray())!.AsObject();
        Assert.Equal(open, child["room_id"]!.GetValue<string>());
        Assert.Equal("Open", child["name"]!.GetValue<string>());
        Assert.Equal(1, child["num_joined_members"]!.GetValue<int>());
        Assert.Equal(new[] { closed }, body["inaccessible_children"]!.AsArray().Select(c => c!.GetValue<string>()));

        // A restricted child is given with the rooms that allow joining it: the requesting server judges its users.
        var restricted = await alice.CreateRoomAsync(new { preset = "private_chat", name = "Members of the space" });
        await alice.SetStateAsync(restricted, "m.room.join_rules", new { join_rule = "restricted", allow = new[] { new { type = "m.room_membership", room_id = spaceId } } });
        await alice.SetStateAsync(spaceId, "m.space.child", new { via = new[] { pair.NameOfB } }, restricted);
        var withRestricted = Ok(await GetAsync($"/hierarchy/{E(spaceId)}"));
        var restrictedChild = Assert.Single(withRestricted["children"]!.AsArray(), c => c!["room_id"]!.GetValue<string>() == restricted)!;
        Assert.Equal("restricted", restrictedChild["join_rule"]!.GetValue<string>());
        Assert.Equal(new[] { spaceId }, restrictedChild["allowed_room_ids"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(new[] { closed }, withRestricted["inaccessible_children"]!.AsArray().Select(c => c!.GetValue<string>()));

        var suggested = Ok(await GetAsync($"/hierarchy/{E(spaceId)}?suggested_only=true"));
        Assert.Equal(open, Assert.Single(suggested["children"]!.AsArray())!["room_id"]!.GetValue<string>());
        Assert.Empty(suggested["inaccessible_children"]!.AsArray());

        AssertError(await GetAsync($"/hierarchy/{E(closed)}"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        AssertError(await GetAsync($"/hierarchy/{E("!nosuchroom:" + pair.NameOfB)}"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        AssertError(await GetAsync($"/hierarchy/{E(spaceId)}?suggested_only=yes"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Openid_userinfo_names_the_user_of_a_valid_token_and_refuses_others_without_a_signature()
    {
        var alice = await LocalUserAsync();
        var token = await alice.OkAsync(HttpMethod.Post, $"/user/{RoomsClient.Escape(alice.UserId)}/openid/request_token", new { });
        var accessToken = token.GetProperty("access_token").GetString()!;
        var http = pair.ClientFor(pair.B);

        using var valid = await http.GetAsync($"{Federation}/openid/userinfo?access_token={E(accessToken)}");
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        var body = JsonNode.Parse(await valid.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(alice.UserId, body["sub"]!.GetValue<string>());
        Assert.Single(body);

        using var unknown = await http.GetAsync($"{Federation}/openid/userinfo?access_token=not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("M_UNKNOWN_TOKEN", JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["errcode"]!.GetValue<string>());
    }

    private static string E(string value) => Uri.EscapeDataString(value);

    private static JsonArray Ids(params string[] ids) => new(ids.Select(id => (JsonNode)id).ToArray());

    private Task<Grains.Federation.Transport.FederationResponse> GetAsync(string path) =>
        pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, Federation + path, null, CancellationToken.None);

    private Task<Grains.Federation.Transport.FederationResponse> PostAsync(string path, JsonObject body) =>
        pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Post, Federation + path, body, CancellationToken.None);

    private static JsonObject Ok(Grains.Federation.Transport.FederationResponse response)
    {
        var text = System.Text.Encoding.UTF8.GetString(response.Body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static void AssertError(Grains.Federation.Transport.FederationResponse response, HttpStatusCode status, string errcode)
    {
        var text = System.Text.Encoding.UTF8.GetString(response.Body);
        Assert.True(response.StatusCode == status, $"expected {(int)status} {errcode}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(errcode, JsonNode.Parse(text)!["errcode"]!.GetValue<string>());
    }

    private async Task<RoomsClient> LocalUserAsync() =>
        new(pair.ClientFor(pair.B), await TestUsers.CreateAsync(pair.B, "alice"));

    /// <summary>A public room of B with a local member and a joined member of A; returns the id of A's join.</summary>
    private async Task<(RoomsClient Alice, string RoomId, RoomVersion Version, string Join)> RoomWithRemoteMemberAsync()
    {
        var alice = await LocalUserAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var (version, join) = await JoinFromAAsync(roomId);
        return (alice, roomId, version, join);
    }

    /// <summary>A user of A joins the room of B through make_join and send_join, as A's server would.</summary>
    private async Task<(RoomVersion Version, string JoinId)> JoinFromAAsync(string roomId)
    {
        var userId = pair.RemoteUser("reader");
        var versions = string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}"));
        var made = Ok(await GetAsync($"/make_join/{E(roomId)}/{E(userId)}?{versions}"));
        Assert.True(RoomVersion.TryGet(made["room_version"]!.GetValue<string>(), out var version));
        var pdu = made["event"]!.AsObject();
        if (version.EventIdInEvent) pdu["event_id"] = $"${Guid.NewGuid():N}:{pair.NameOfA}";
        pdu["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu, version.StrictCanonicalJson)) };
        pdu["signatures"] = new JsonObject();
        EventSigning.Sign(version, pdu, pair.KeyOfA);
        var eventId = EventHashing.ComputeEventId(version, pdu);
        var sent = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{E(roomId)}/{E(eventId.Value)}", pdu, CancellationToken.None);
        Ok(sent);
        return (version, eventId.Value);
    }

    private async Task<IReadOnlyList<StoredEvent>> StoredEventsAsync(string roomId) =>
        await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None);

    /// <summary>Every event reachable through auth_events from the event, as B stored them.</summary>
    private async Task<HashSet<string>> AuthChainInStoreAsync(string eventId)
    {
        var chain = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([eventId]);
        while (pending.TryDequeue(out var id))
        {
            var stored = await pair.StoreOfB.Events.GetEventAsync(id, CancellationToken.None);
            Assert.NotNull(stored);
            foreach (var auth in JsonDocument.Parse(stored.Json).RootElement.GetProperty("auth_events").EnumerateArray())
            {
                var authId = auth.ValueKind == JsonValueKind.Array ? auth[0].GetString()! : auth.GetString()!;
                if (chain.Add(authId)) pending.Enqueue(authId);
            }
        }
        return chain;
    }
}

public sealed class SqliteFederationReadTests(SqliteFederationPair pair)
    : FederationReadTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederationReadTests(PostgresFederationPair pair)
    : FederationReadTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
