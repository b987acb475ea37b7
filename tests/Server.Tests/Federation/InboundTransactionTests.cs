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
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Server A sends transactions (<c>PUT /_matrix/federation/v1/send/{txnId}</c>) to server B, as a remote homeserver
/// would: after a user of A joined a room of B through make_join/send_join, A builds the room's next events from B's
/// newest event and signs them with its own key. Accepted events reach B's local member in /sync once; refused ones
/// are answered with an error under their event id and change nothing.
/// </summary>
public abstract class InboundTransactionTests<TPair>(TPair pair) where TPair : FederationPair
{
    [Fact]
    public async Task A_remote_message_reaches_the_local_member_once_and_a_retried_transaction_appends_nothing_twice()
    {
        var (alice, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("carol");
        var since = await NextBatchAsync(sync);
        var (eventId, message) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("hello from A"));
        var txnId = NewTxnId();

        var response = await SendTransactionAsync(txnId, [message]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = JsonNode.Parse(response.Body)!["pdus"]!.AsObject();
        Assert.Equal([eventId.Value], results.Select(r => r.Key));
        Assert.Empty(results[eventId.Value]!.AsObject());
        var seen = Assert.Single(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
        Assert.Equal(eventId.Value, seen.GetProperty("event_id").GetString());
        Assert.Equal(remote, seen.GetProperty("sender").GetString());
        Assert.Equal("hello from A", seen.GetProperty("content").GetProperty("body").GetString());

        // A did not get the answer and sends the transaction again; then the same event in a new transaction.
        var events = await EventCountAsync(roomId);
        var afterFirst = await NextBatchAsync(sync);
        var retried = await SendTransactionAsync(txnId, [message]);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(response.Body, retried.Body);
        var again = await SendTransactionAsync(NewTxnId(), [message]);
        Assert.Empty(JsonNode.Parse(again.Body)!["pdus"]![eventId.Value]!.AsObject());
        Assert.Equal(events, await EventCountAsync(roomId));
        Assert.Empty(await FederationTimelines.TimelineSinceAsync(sync, afterFirst, roomId));

        // B's own events still go on from the remote one.
        var reply = await alice.SendTextAsync(roomId, "hello from B");
        Assert.Contains(await FederationTimelines.TimelineSinceAsync(sync, afterFirst, roomId), e => e.GetProperty("event_id").GetString() == reply);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("3")]
    [InlineData("11")]
    public async Task A_remote_message_is_accepted_in_a_room_of_each_event_format(string roomVersion)
    {
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("owen", roomVersion);
        Assert.Equal(roomVersion, version.Id);
        var (eventId, message) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("in any format"));
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([message]);

        Assert.True(results[eventId.Value]!.AsObject().Count == 0, results.ToJsonString());
        Assert.Equal([eventId.Value], (await FederationTimelines.TimelineSinceAsync(sync, since, roomId)).Select(e => e.GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task Events_of_one_transaction_that_follow_each_other_are_appended_in_order()
    {
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("nora");
        var (firstId, first) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("one"));
        var (secondId, second) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("two"), change: e =>
        {
            e["prev_events"] = new JsonArray(firstId.Value);
            e["depth"] = first["depth"]!.GetValue<long>() + 1;
        });
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([first, second]);

        Assert.Empty(results[firstId.Value]!.AsObject());
        Assert.Empty(results[secondId.Value]!.AsObject());
        Assert.Equal([firstId.Value, secondId.Value], (await FederationTimelines.TimelineSinceAsync(sync, since, roomId)).Select(e => e.GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task A_pdu_with_a_bad_signature_is_refused_without_failing_the_others_of_its_transaction()
    {
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("dave");
        using var impostor = ServerSigningKey.FromSeed(pair.NameOfA, pair.KeyOfA.KeyId, RandomNumberGenerator.GetBytes(32));
        var (forgedId, forged) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("forged"), key: impostor);
        var (goodId, good) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("genuine"));
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([forged, good]);

        Assert.Contains("signature", ErrorOf(results, forgedId));
        Assert.Empty(results[goodId.Value]!.AsObject());
        var timeline = await FederationTimelines.TimelineSinceAsync(sync, since, roomId);
        Assert.Equal([goodId.Value], timeline.Select(e => e.GetProperty("event_id").GetString()));
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(forgedId.Value, CancellationToken.None));
    }

    [Fact]
    public async Task A_pdu_whose_content_does_not_match_its_hash_is_stored_redacted()
    {
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("erin");
        var (eventId, message) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("as signed"));
        // Outside what the signature and the event id cover: only the content hash tells.
        message["content"]!["body"] = "changed on the way";
        Assert.Equal(eventId, EventHashing.ComputeEventId(version, message));
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([message]);

        Assert.Empty(results[eventId.Value]!.AsObject());
        var seen = Assert.Single(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
        Assert.Equal(eventId.Value, seen.GetProperty("event_id").GetString());
        Assert.Empty(seen.GetProperty("content").EnumerateObject());
        var stored = await pair.StoreOfB.Events.GetEventAsync(eventId.Value, CancellationToken.None);
        var storedText = System.Text.Encoding.UTF8.GetString(stored!.Json);
        Assert.DoesNotContain("changed on the way", storedText);
        Assert.DoesNotContain("as signed", storedText);
    }

    [Fact]
    public async Task A_state_event_the_power_levels_forbid_is_rejected()
    {
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("frank");
        var powerLevels = new JsonObject { ["users"] = new JsonObject { [remote] = 100 } };
        var (eventId, pdu) = await RemoteEventAsync(version, roomId, remote, EventTypes.PowerLevels, powerLevels, stateKey: "");

        await AssertRefusedAsync(roomId, sync, eventId, pdu);
    }

    [Fact]
    public async Task A_pdu_of_a_sender_of_another_server_without_that_servers_signature_is_refused()
    {
        var (_, sync, roomId, _, version) = await RoomWithRemoteMemberAsync("grace");
        var (eventId, pdu) = await RemoteEventAsync(version, roomId, "@ivan:other.example", "m.room.message", Text("not A's user"));

        await AssertRefusedAsync(roomId, sync, eventId, pdu);
    }

    [Fact]
    public async Task A_pdu_for_a_room_the_origin_has_no_member_in_is_refused()
    {
        var (alice, sync) = await LocalMemberAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var version = await VersionOfAsync(roomId);
        var (eventId, pdu) = await RemoteEventAsync(version, roomId, pair.RemoteUser("heidi"), "m.room.message", Text("uninvited"));

        var error = await AssertRefusedAsync(roomId, sync, eventId, pdu);
        Assert.Contains("no member joined", error);
    }

    [Fact]
    public async Task A_pdu_whose_previous_event_is_unknown_is_refused()
    {
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("ivy");
        var (eventId, pdu) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("after a gap"),
            change: e => e["prev_events"] = new JsonArray($"${EventHashing.EncodeUnpaddedBase64(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_')}"));

        var error = await AssertRefusedAsync(roomId, sync, eventId, pdu);
        Assert.Contains("not known", error);
    }

    [Fact]
    public async Task An_event_its_own_auth_events_allow_but_the_current_state_forbids_is_rejected()
    {
        var (alice, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("kate");
        var levels = JsonNode.Parse((await alice.GetStateEventAsync(roomId, EventTypes.PowerLevels)).GetRawText())!.AsObject();
        levels["users"]![remote] = 50;
        var promoted = await alice.SetStateAsync(roomId, EventTypes.PowerLevels, levels);
        levels["users"]![remote] = 0;
        var demoted = await alice.SetStateAsync(roomId, EventTypes.PowerLevels, levels);
        // Built as if A had not seen the demotion: it cites the power levels that let the user set the topic.
        var (eventId, pdu) = await RemoteEventAsync(version, roomId, remote, "m.room.topic", new JsonObject { ["topic"] = "mine now" }, stateKey: "",
            change: e => e["auth_events"] = new JsonArray(e["auth_events"]!.AsArray().Select(id => (JsonNode)(id!.GetValue<string>() == demoted ? promoted : id.GetValue<string>())).ToArray()));
        Assert.Contains(promoted, pdu["auth_events"]!.AsArray().Select(id => id!.GetValue<string>()));

        await AssertRefusedAsync(roomId, sync, eventId, pdu);
    }

    [Fact]
    public async Task A_server_the_rooms_acl_denies_is_refused_its_pdus_edus_reads_and_joins_until_the_acl_allows_it()
    {
        var (alice, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("nina");
        // Both servers of the pair are 127.0.0.1 with a port; the ACL binds only other servers, so B goes on.
        await alice.SetStateAsync(roomId, ServerAcl.EventType, new JsonObject { ["allow"] = new JsonArray("*"), ["deny"] = new JsonArray("127.0.0.*") });
        var (deniedId, denied) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("while denied"));

        Assert.Contains("access control", await AssertRefusedAsync(roomId, sync, deniedId, denied));

        var since = await NextBatchAsync(sync);
        var typing = new JsonObject
        {
            ["edu_type"] = "m.typing",
            ["content"] = new JsonObject { ["room_id"] = roomId, ["user_id"] = remote, ["typing"] = true },
        };
        await SendTransactionOkAsync([], [typing]);
        Assert.Empty(await EphemeralAsync(sync, since, roomId, "m.typing", content => content.GetProperty("user_ids").EnumerateArray().Select(u => u.GetString()!)));

        var lastId = await NewestEventIdAsync(roomId);
        foreach (var path in new[]
                 {
                     $"/_matrix/federation/v1/event/{Uri.EscapeDataString(lastId)}",
                     $"/_matrix/federation/v1/state_ids/{Uri.EscapeDataString(roomId)}?event_id={Uri.EscapeDataString(lastId)}",
                     $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(pair.RemoteUser("late"))}?ver={version.Id}",
                 })
        {
            var read = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, path, null, CancellationToken.None);
            Assert.True(read.StatusCode == HttpStatusCode.Forbidden, $"{path}: {(int)read.StatusCode} {System.Text.Encoding.UTF8.GetString(read.Body)}");
            Assert.Equal("M_FORBIDDEN", JsonNode.Parse(read.Body)!["errcode"]!.GetValue<string>());
        }

        var invitee = (await LocalMemberAsync()).Sync.UserId;
        var (inviteId, invite) = await RemoteEventAsync(version, roomId, remote, EventTypes.Member, new JsonObject { ["membership"] = "invite" }, stateKey: invitee);
        Task<FederationResponse> InviteAsync() => pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/invite/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(inviteId.Value)}",
            new JsonObject { ["event"] = invite.DeepClone(), ["invite_room_state"] = new JsonArray(), ["room_version"] = version.Id }, CancellationToken.None);
        var invited = await InviteAsync();
        Assert.True(invited.StatusCode == HttpStatusCode.Forbidden, $"invite: {(int)invited.StatusCode} {System.Text.Encoding.UTF8.GetString(invited.Body)}");
        Assert.Contains("access control", JsonNode.Parse(invited.Body)!["error"]!.GetValue<string>());

        await alice.SetStateAsync(roomId, ServerAcl.EventType, new JsonObject { ["allow"] = new JsonArray("*"), ["deny"] = new JsonArray("evil.example") });
        invited = await InviteAsync();
        Assert.True(invited.StatusCode == HttpStatusCode.OK, $"invite: {(int)invited.StatusCode} {System.Text.Encoding.UTF8.GetString(invited.Body)}");
        var (allowedId, allowed) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("allowed again"));
        since = await NextBatchAsync(sync);
        Assert.Empty((await SendTransactionOkAsync([allowed]))[allowedId.Value]!.AsObject());
        Assert.Equal([allowedId.Value], (await FederationTimelines.TimelineSinceAsync(sync, since, roomId)).Select(e => e.GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task Events_missed_before_a_pdu_are_fetched_from_its_server_and_appended_in_order_once()
    {
        var served = new JsonArray();
        var requests = new List<JsonObject>();
        var c = await ServerServingMissingEventsAsync(served, requests);
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("olga", from: c);
        var newest = await NewestEventIdAsync(roomId);
        var (firstId, first) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("one"), from: c);
        var (secondId, second) = await FollowingEventAsync(version, roomId, remote, Text("two"), first, firstId, c);
        var (thirdId, third) = await FollowingEventAsync(version, roomId, remote, Text("three"), second, secondId, c);
        served.Add(second.DeepClone());
        served.Add(first.DeepClone());
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([third], from: c);

        Assert.True(results[thirdId.Value]!.AsObject().Count == 0, results.ToJsonString());
        Assert.Equal([firstId.Value, secondId.Value, thirdId.Value],
            (await FederationTimelines.TimelineSinceAsync(sync, since, roomId)).Select(e => e.GetProperty("event_id").GetString()));
        var request = Assert.Single(requests);
        Assert.Equal([newest], request["earliest_events"]!.AsArray().Select(id => id!.GetValue<string>()));
        Assert.Equal([thirdId.Value], request["latest_events"]!.AsArray().Select(id => id!.GetValue<string>()));

        // C sends the missed events again later, as a server catching up does: nothing is appended twice.
        var events = await EventCountAsync(roomId);
        var again = await SendTransactionOkAsync([first, second], from: c);
        Assert.Empty(again[firstId.Value]!.AsObject());
        Assert.Empty(again[secondId.Value]!.AsObject());
        Assert.Equal(events, await EventCountAsync(roomId));
    }

    [Fact]
    public async Task A_pdu_is_refused_and_nothing_stored_when_its_missing_events_do_not_lead_to_the_rooms_newest_event()
    {
        var served = new JsonArray();
        var c = await ServerServingMissingEventsAsync(served, []);
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("pia", from: c);
        var (firstId, first) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("one"), from: c);
        var (secondId, second) = await FollowingEventAsync(version, roomId, remote, Text("two"), first, firstId, c);
        var (thirdId, third) = await FollowingEventAsync(version, roomId, remote, Text("three"), second, secondId, c);
        served.Add(second.DeepClone()); // The first is missing from the answer: the chain has a hole.

        Assert.Contains("not known", await AssertRefusedAsync(roomId, sync, thirdId, third, c));
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(secondId.Value, CancellationToken.None));
    }

    [Fact]
    public async Task A_forged_missing_event_is_refused_with_the_pdu_that_needed_it()
    {
        var served = new JsonArray();
        var c = await ServerServingMissingEventsAsync(served, []);
        var (_, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("quinn", from: c);
        using var impostor = ServerSigningKey.FromSeed(c.Name, c.Key.KeyId, RandomNumberGenerator.GetBytes(32));
        var (forgedId, forged) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("forged"), key: impostor, from: c);
        var (nextId, next) = await FollowingEventAsync(version, roomId, remote, Text("after the forgery"), forged, forgedId, c);
        served.Add(forged.DeepClone());

        await AssertRefusedAsync(roomId, sync, nextId, next, c);
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(forgedId.Value, CancellationToken.None));
    }

    [Fact]
    public async Task A_remote_user_redacts_its_own_message()
    {
        var (alice, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("liam");
        var (messageId, message) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("regretted"));
        Assert.Empty((await SendTransactionOkAsync([message]))[messageId.Value]!.AsObject());
        var (redactionId, redaction) = await RemoteEventAsync(version, roomId, remote, EventTypes.Redaction,
            new JsonObject { ["redacts"] = messageId.Value }, change: e => e["redacts"] = messageId.Value);

        Assert.Empty((await SendTransactionOkAsync([redaction]))[redactionId.Value]!.AsObject());

        var redacted = await alice.GetEventAsync(roomId, messageId.Value);
        Assert.Empty(redacted.GetProperty("content").EnumerateObject());
        Assert.Equal(redactionId.Value, redacted.GetProperty("unsigned").GetProperty("redacted_because").GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task A_read_receipt_edu_of_a_joined_remote_user_reaches_the_local_member()
    {
        var (alice, sync, roomId, remote, _) = await RoomWithRemoteMemberAsync("mia");
        var read = await alice.SendTextAsync(roomId, "read me");
        var since = await NextBatchAsync(sync);
        var receipt = new JsonObject
        {
            ["edu_type"] = "m.receipt",
            ["content"] = new JsonObject
            {
                [roomId] = new JsonObject
                {
                    ["m.read"] = new JsonObject
                    {
                        [remote] = new JsonObject { ["event_ids"] = new JsonArray(read), ["data"] = new JsonObject { ["ts"] = 1 } },
                    },
                },
            },
        };

        Assert.Empty(await SendTransactionOkAsync([], [receipt]));

        var readers = await EphemeralAsync(sync, since, roomId, "m.receipt",
            content => content.TryGetProperty(read, out var byType) && byType.TryGetProperty("m.read", out var users)
                ? users.EnumerateObject().Select(u => u.Name)
                : []);
        Assert.Equal([remote], readers);
    }

    [Fact]
    public async Task After_a_remote_member_leaves_its_server_can_send_no_more_events_to_the_room()
    {
        var (alice, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("judy");
        var leave = new JsonObject { ["membership"] = "leave" };
        var (leaveId, leavePdu) = await RemoteEventAsync(version, roomId, remote, EventTypes.Member, leave, stateKey: remote);
        var since = await NextBatchAsync(sync);

        Assert.Empty((await SendTransactionOkAsync([leavePdu]))[leaveId.Value]!.AsObject());

        var seen = Assert.Single(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
        Assert.Equal("leave", seen.GetProperty("content").GetProperty("membership").GetString());
        var members = await alice.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members");
        Assert.False(members.GetProperty("joined").TryGetProperty(remote, out _));
        var (eventId, pdu) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("still here?"));
        await AssertRefusedAsync(roomId, sync, eventId, pdu);
    }

    [Fact]
    public async Task A_typing_edu_of_a_joined_remote_user_reaches_the_local_member()
    {
        var (_, sync, roomId, remote, _) = await RoomWithRemoteMemberAsync("kim");
        var since = await NextBatchAsync(sync);
        var typing = new JsonObject
        {
            ["edu_type"] = "m.typing",
            ["content"] = new JsonObject { ["room_id"] = roomId, ["user_id"] = remote, ["typing"] = true },
        };
        var unknownEdu = new JsonObject { ["edu_type"] = "org.example.unknown", ["content"] = new JsonObject() };

        var results = await SendTransactionOkAsync([], [typing, unknownEdu]);

        Assert.Empty(results);
        var typingUsers = await EphemeralAsync(sync, since, roomId, "m.typing",
            content => content.GetProperty("user_ids").EnumerateArray().Select(u => u.GetString()!));
        Assert.Equal([remote], typingUsers);
    }

    [Fact]
    public async Task A_typing_edu_for_a_user_of_another_server_is_ignored()
    {
        var (_, sync, roomId, _, _) = await RoomWithRemoteMemberAsync("leo");
        var local = sync.UserId;
        var typing = new JsonObject
        {
            ["edu_type"] = "m.typing",
            ["content"] = new JsonObject { ["room_id"] = roomId, ["user_id"] = local, ["typing"] = true },
        };

        Assert.Empty(await SendTransactionOkAsync([], [typing]));

        var room = await pair.B.App.Services.GetRequiredService<Orleans.IGrainFactory>().GetGrain<HomeServer.Grains.Rooms.IRoomGrain>(roomId).GetTypingAsync();
        Assert.Empty(room.UserIds);
    }

    [Fact]
    public async Task In_a_room_using_a_policy_server_an_event_without_its_signature_is_soft_failed_and_one_with_it_is_accepted()
    {
        var (alice, sync, roomId, remote, version) = await RoomWithRemoteMemberAsync("petra", roomVersion: "11");
        // A has a member in the room, so naming A as the Policy Server makes the room use it. A is no Policy Server: asked
        // to sign, it answers M_UNRECOGNIZED, so only an event that already carries a valid signature of the key passes.
        using var policyKey = ServerSigningKey.FromSeed(A.Name, "ed25519:policy_server", RandomNumberGenerator.GetBytes(ServerSigningKey.SeedBytes));
        await alice.SetStateAsync(roomId, "m.room.policy", new { via = A.Name, public_keys = new { ed25519 = policyKey.PublicKeyBase64 } });
        var since = await NextBatchAsync(sync);
        var events = await EventCountAsync(roomId);

        var (unchecked_, withoutSignature) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("not checked"));
        var results = await SendTransactionOkAsync([withoutSignature]);

        Assert.Empty(results[unchecked_.Value]!.AsObject());
        Assert.Equal(events, await EventCountAsync(roomId));
        Assert.Empty(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
        Assert.NotNull(await pair.StoreOfB.Forks.GetSoftFailedAsync(unchecked_.Value, CancellationToken.None));

        var (checkedId, withSignature) = await RemoteEventAsync(version, roomId, remote, "m.room.message", Text("checked"),
            change: pdu => pdu["content"]!["checked"] = true);
        var signed = (JsonObject)withSignature.DeepClone();
        EventSigning.Sign(version, signed, policyKey);
        Assert.Empty((await SendTransactionOkAsync([signed]))[checkedId.Value]!.AsObject());
        var seen = Assert.Single(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
        Assert.Equal(checkedId.Value, seen.GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task A_transaction_over_50_pdus_is_refused_as_a_whole()
    {
        var pdus = Enumerable.Range(0, 51).Select(_ => new JsonObject()).ToArray();

        var response = await SendTransactionAsync(NewTxnId(), pdus);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("M_BAD_JSON", JsonNode.Parse(response.Body)!["errcode"]!.GetValue<string>());
    }

    private static JsonObject Text(string body) => new() { ["msgtype"] = "m.text", ["body"] = body };

    /// <summary>What the member's /sync shows of the room's ephemeral events of one type, waiting up to 5 s for something.</summary>
    private static async Task<List<string>> EphemeralAsync(SyncUser member, string since, string roomId, string type, Func<JsonElement, IEnumerable<string>> select)
    {
        for (var attempt = 0; ; attempt++)
        {
            var body = await member.SyncSinceAsync(since, "timeout=0");
            var found = body.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var join) && join.TryGetProperty(roomId, out var room)
                        && room.TryGetProperty("ephemeral", out var ephemeral)
                ? ephemeral.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("type").GetString() == type)
                    .SelectMany(e => select(e.GetProperty("content"))).ToList()
                : [];
            if (found.Count > 0 || attempt == 50) return found;
            await Task.Delay(100);
        }
    }

    private static string NewTxnId() => Guid.NewGuid().ToString("N");

    /// <summary>A server that sends to B: its name, its federation client and its signing key.</summary>
    private sealed record RemoteServer(string Name, FederationClient Client, ServerSigningKey Key)
    {
        public string User(string name) => $"@{name}-{Guid.NewGuid().ToString("N")[..8]}:{Name}";

        public static RemoteServer Of(RunningServer server, string name) => new(name,
            server.App.Services.GetRequiredService<FederationClient>(), server.App.Services.GetRequiredService<LocalSigningKey>().Current);
    }

    private RemoteServer A => new(pair.NameOfA, pair.FederationOfA, pair.KeyOfA);

    /// <summary>
    /// A third server whose <c>/get_missing_events</c> answers with the events the test puts in <paramref name="served"/>
    /// and records each request body in <paramref name="requests"/>.
    /// </summary>
    private async Task<RemoteServer> ServerServingMissingEventsAsync(JsonArray served, List<JsonObject> requests)
    {
        var (server, name) = await pair.StartAsync(allowPrivateAddresses: true, app =>
            app.MapPost("/_matrix/federation/v1/get_missing_events/{roomId}", async (HttpContext context) =>
            {
                var body = await JsonNode.ParseAsync(context.Request.Body);
                lock (requests) requests.Add(body!.AsObject());
                return Results.Text(new JsonObject { ["events"] = served.DeepClone() }.ToJsonString(), "application/json");
            }).WithOrder(-1));
        return RemoteServer.Of(server, name);
    }

    private async Task<(RoomsClient Rooms, SyncUser Sync)> LocalMemberAsync()
    {
        var user = await TestUsers.CreateAsync(pair.B, "alice");
        var http = pair.ClientFor(pair.B);
        return (new RoomsClient(http, user), new SyncUser(http, user.UserId, user.DeviceId, user.AccessToken));
    }

    /// <summary>A public room of B with a local member and a user of A joined through make_join/send_join.</summary>
    private async Task<(RoomsClient Rooms, SyncUser Sync, string RoomId, string Remote, RoomVersion Version)> RoomWithRemoteMemberAsync(
        string name, string? roomVersion = null, RemoteServer? from = null)
    {
        from ??= A;
        var (alice, sync) = await LocalMemberAsync();
        var roomId = roomVersion is null
            ? await alice.CreateRoomAsync(new { preset = "public_chat" })
            : await alice.CreateRoomAsync(new { preset = "public_chat", room_version = roomVersion });
        var remote = from.User(name);
        var made = await from.Client.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(remote)}?"
            + string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}")), null, CancellationToken.None);
        Assert.True(made.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(made.Body));
        var body = JsonNode.Parse(made.Body)!.AsObject();
        Assert.True(RoomVersion.TryGet(body["room_version"]!.GetValue<string>(), out var version));
        var template = body["event"]!.AsObject();
        if (version.EventIdInEvent) template["event_id"] = $"${Guid.NewGuid():N}:{from.Name}";
        var (eventId, join) = Sign(version, template, from.Key);
        var joined = await from.Client.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", join, CancellationToken.None);
        Assert.True(joined.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(joined.Body));
        return (alice, sync, roomId, remote, version);
    }

    private async Task<RoomVersion> VersionOfAsync(string roomId)
    {
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);
        var create = state.Single(e => e.Type == EventTypes.Create);
        Assert.True(RoomVersion.TryGet(JsonNode.Parse(create.Json)!["content"]!["room_version"]!.GetValue<string>(), out var version));
        return version;
    }

    /// <summary>
    /// The room's next event as A builds it from what it knows of the room (here: B's store): B's newest event as the
    /// only previous event, the next depth, the auth events the event's type asks for from the current state.
    /// </summary>
    private async Task<(EventId EventId, JsonObject Event)> RemoteEventAsync(
        RoomVersion version, string roomId, string sender, string type, JsonObject content, string? stateKey = null,
        ServerSigningKey? key = null, Action<JsonObject>? change = null, RemoteServer? from = null)
    {
        from ??= A;
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);
        var last = (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, long.MaxValue, Direction.Backward, 1, CancellationToken.None))[0];
        var wanted = AuthEventSelector.RequiredStateKeys(type, stateKey, UserId.Parse(sender), content);
        var authEvents = state.Where(e => e.StateKey is not null && wanted.Contains(new StateEventKey(e.Type, e.StateKey)))
            .Select(e => Reference(version, e)).ToArray();
        var pdu = new JsonObject
        {
            ["auth_events"] = new JsonArray(authEvents),
            ["content"] = content,
            ["depth"] = JsonNode.Parse(last.Json)!["depth"]!.GetValue<long>() + 1,
            ["origin"] = from.Name,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["prev_events"] = new JsonArray(Reference(version, last)),
            ["room_id"] = roomId,
            ["sender"] = sender,
            ["type"] = type,
        };
        if (version.EventIdInEvent) pdu["event_id"] = $"${Guid.NewGuid():N}:{from.Name}";
        if (stateKey is not null) pdu["state_key"] = stateKey;
        change?.Invoke(pdu);
        return Sign(version, pdu, key ?? from.Key);
    }

    /// <summary>An event id from room version 3 on; <c>[event_id, {"sha256": content hash}]</c> in versions 1 and 2.</summary>
    private static JsonNode Reference(RoomVersion version, StoredEvent stored) =>
        version.EventIdInEvent
            ? new JsonArray(stored.EventId, new JsonObject { ["sha256"] = JsonNode.Parse(stored.Json)!["hashes"]!["sha256"]!.GetValue<string>() })
            : stored.EventId;

    /// <summary>What the sending server does with an event: hashes it and signs it with its key.</summary>
    private static (EventId EventId, JsonObject Event) Sign(RoomVersion version, JsonObject template, ServerSigningKey key)
    {
        var pdu = (JsonObject)template.DeepClone();
        pdu["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu, version.StrictCanonicalJson)) };
        pdu["signatures"] = new JsonObject();
        EventSigning.Sign(version, pdu, key);
        return (EventHashing.ComputeEventId(version, pdu), pdu);
    }

    private Task<FederationResponse> SendTransactionAsync(string txnId, JsonObject[] pdus, JsonObject[]? edus = null, RemoteServer? from = null)
    {
        from ??= A;
        var body = new JsonObject
        {
            ["origin"] = from.Name,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(pdus.Select(p => (JsonNode)p.DeepClone()).ToArray()),
        };
        if (edus is not null) body["edus"] = new JsonArray(edus.Select(e => (JsonNode)e.DeepClone()).ToArray());
        return from.Client.SendAsync(pair.NameOfB, HttpMethod.Put, $"/_matrix/federation/v1/send/{txnId}", body, CancellationToken.None);
    }

    private async Task<JsonObject> SendTransactionOkAsync(JsonObject[] pdus, JsonObject[]? edus = null, RemoteServer? from = null)
    {
        var response = await SendTransactionAsync(NewTxnId(), pdus, edus, from);
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(response.Body));
        return JsonNode.Parse(response.Body)!["pdus"]!.AsObject();
    }

    private static string ErrorOf(JsonObject results, EventId eventId)
    {
        Assert.True(results.ContainsKey(eventId.Value), $"no result for {eventId}: {results.ToJsonString()}");
        return results[eventId.Value]!["error"]?.GetValue<string>() ?? throw new Xunit.Sdk.XunitException($"{eventId} was accepted");
    }

    /// <summary>The transaction is answered 200 with an error for the PDU, and neither the room's events, its state nor its local member's /sync change.</summary>
    private async Task<string> AssertRefusedAsync(string roomId, SyncUser member, EventId eventId, JsonObject pdu, RemoteServer? from = null)
    {
        var since = await NextBatchAsync(member);
        var events = await EventCountAsync(roomId);
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);

        var error = ErrorOf(await SendTransactionOkAsync([pdu], from: from), eventId);

        Assert.Equal(events, await EventCountAsync(roomId));
        Assert.Equal(state.Select(e => e.EventId).Order(), (await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None)).Select(e => e.EventId).Order());
        Assert.Empty(await FederationTimelines.TimelineSinceAsync(member, since, roomId));
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(eventId.Value, CancellationToken.None));
        return error;
    }

    private static async Task<string> NextBatchAsync(SyncUser member) =>
        (await member.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

    private async Task<string> NewestEventIdAsync(string roomId) =>
        (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, long.MaxValue, Direction.Backward, 1, CancellationToken.None))[0].EventId;

    /// <summary>A message of the remote server that follows <paramref name="previous"/> (which B may not have).</summary>
    private Task<(EventId EventId, JsonObject Event)> FollowingEventAsync(
        RoomVersion version, string roomId, string sender, JsonObject content, JsonObject previous, EventId previousId, RemoteServer from) =>
        RemoteEventAsync(version, roomId, sender, "m.room.message", content, from: from, change: e =>
        {
            e["prev_events"] = new JsonArray(version.EventIdInEvent
                ? new JsonArray(previousId.Value, new JsonObject { ["sha256"] = previous["hashes"]!["sha256"]!.GetValue<string>() })
                : previousId.Value);
            e["depth"] = previous["depth"]!.GetValue<long>() + 1;
        });

    private async Task<int> EventCountAsync(string roomId) =>
        (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None)).Count;

}

public sealed class SqliteInboundTransactionTests(SqliteFederationPair pair)
    : InboundTransactionTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresInboundTransactionTests(PostgresFederationPair pair)
    : InboundTransactionTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
