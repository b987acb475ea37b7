using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Federation.Invites;

/// <summary>
/// Invites of local users to one room of another server (key: the room id). An invite is checked as the spec lists,
/// signed and kept with the stripped state the inviting server sent, so the invitee's /sync shows it; the invitee rejects
/// it through the room's server. A room this server has is not kept here: the invite reaches it through the inviting
/// server's transactions like its other events. See docs/adr/0038-federated-invites-and-leaves.md.
/// </summary>
[GrainType("federated-invite")]
public sealed partial class FederatedInviteGrain(
    IHomeServerStore store, LocalServer local, LocalSigningKey signingKey, FederationClient client, ILogger<FederatedInviteGrain> logger)
    : HomeServerGrain, IFederatedInviteGrain
{
    public async Task<ReceivedInviteResult> ReceiveAsync(string origin, string eventId, byte[] body, bool v1)
    {
        if (origin == local.Name) throw MatrixRequestException.Forbidden("This server does not invite over federation to itself.");
        var (versionId, eventJson, roomState) = v1 ? ReadV1(body) : ReadV2(body);
        if (!RoomVersion.TryGet(versionId, out var version)) return new ReceivedInviteResult(versionId, null);

        var pdu = PduFormat.Parse(version, eventJson);
        var (invitee, inviteId) = CheckInvite(version, origin, eventId, pdu);
        var failure = await ReceivedEventSignatures.FailureAsync(GrainFactory, local, signingKey.Current, version, pdu);
        if (failure is not null) throw MatrixRequestException.InvalidParam(failure);
        if (!ReceivedJoinEvent.HasValidContentHash(version, pdu))
            throw MatrixRequestException.InvalidParam("The event's content hash does not match its content.");
        if (await store.Accounts.GetAccountAsync(invitee, CancellationToken.None) is null)
            throw MatrixRequestException.Forbidden($"{invitee} is not a user of this server.");

        var roomIsHere = await store.Rooms.GetRoomAsync(Key, CancellationToken.None) is not null;
        if (roomIsHere && !await GrainFactory.GetGrain<IRoomGrain>(Key).AllowsServerAsync(origin))
            throw MatrixRequestException.Forbidden($"{origin} is denied by the room's server access control list.");

        EventSigning.Sign(version, pdu, signingKey.Current);
        var signed = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        if (roomIsHere) return new ReceivedInviteResult(version.Id, signed);

        var kept = (JsonObject)pdu.DeepClone();
        kept["unsigned"] = new JsonObject { ["invite_room_state"] = roomState };
        var position = await store.RemoteInvites.SaveInviteAsync(
            new RemoteInvite(invitee, Key, inviteId.Value, version.Id, Membership.Invite, JsonSerializer.SerializeToUtf8Bytes(kept), null, 0),
            CancellationToken.None);
        await NotifySyncAsync(invitee, position);
        return new ReceivedInviteResult(version.Id, signed);
    }

    public async Task RejectAsync(string userId, string? reason)
    {
        var invite = await store.RemoteInvites.GetAsync(userId, Key, CancellationToken.None);
        if (invite is not { Membership: Membership.Invite or Membership.Knock } || !RoomVersion.TryGet(invite.RoomVersion, out var version))
            throw MatrixRequestException.Forbidden("You are not in this room.");
        // An invite is rejected through the inviter's server, a knock rescinded through the server it went through.
        var destination = invite.Membership == Membership.Knock
            ? KnockedThrough(invite)
            : UserId.Parse(JsonNode.Parse(invite.InviteEvent)!["sender"]!.GetValue<string>()).Server.ToString();

        var made = await SendAsync(destination, HttpMethod.Get,
            $"/_matrix/federation/v1/make_leave/{Uri.EscapeDataString(Key)}/{Uri.EscapeDataString(userId)}", null);
        var template = ParseOrNull(made)?["event"] as JsonObject
                       ?? throw Unavailable(destination, "its make_leave answer has no event");
        if (Text(template, "room_id") != Key || Text(template, "type") != EventTypes.Member
            || Text(template, "sender") != userId || Text(template, "state_key") != userId
            || template["content"] is not JsonObject templateContent || Text(templateContent, "membership") != Membership.Leave)
            throw Unavailable(destination, "its make_leave template is not a leave of this user in this room");

        var leave = (JsonObject)template.DeepClone();
        if (reason is not null) leave["content"]!["reason"] = reason;
        leave["origin"] = local.Name;
        if (version.EventIdInEvent) leave["event_id"] = $"${Guid.NewGuid():N}:{local.Name}";
        leave["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(leave, version.StrictCanonicalJson)) };
        leave["signatures"] = new JsonObject();
        EventSigning.Sign(version, leave, signingKey.Current);
        var leaveId = EventHashing.ComputeEventId(version, leave);

        await SendAsync(destination, HttpMethod.Put,
            $"/_matrix/federation/v2/send_leave/{Uri.EscapeDataString(Key)}/{Uri.EscapeDataString(leaveId.Value)}", leave);
        var position = await store.RemoteInvites.SaveRejectionAsync(userId, Key, invite.EventId,
            CanonicalJson.Encode(leave, version.StrictCanonicalJson), CancellationToken.None);
        if (position is { } p) await NotifySyncAsync(userId, p);
    }

    /// <summary>The spec's checks of an invite (all M_INVALID_PARAM): its type, membership, sender, target and id.</summary>
    private (string Invitee, Identifiers.EventId EventId) CheckInvite(RoomVersion version, string origin, string pathEventId, JsonObject pdu)
    {
        if (Text(pdu, "room_id") != Key) throw MatrixRequestException.InvalidParam("The event is not for this room.");
        if (Text(pdu, "type") != EventTypes.Member) throw MatrixRequestException.InvalidParam($"The event is not an {EventTypes.Member} event.");
        if (pdu["content"] is not JsonObject content || Text(content, "membership") != Membership.Invite)
            throw MatrixRequestException.InvalidParam("The event's membership is not invite.");
        if (!UserId.TryParse(Text(pdu, "sender"), out var sender) || sender.Server.ToString() != origin)
            throw MatrixRequestException.InvalidParam($"The sender is not a user of {origin}.");
        var invitee = Text(pdu, "state_key");
        if (!UserId.TryParse(invitee, out var target) || target.Server.ToString() != local.Name)
            throw MatrixRequestException.InvalidParam("The state_key is not a user of this server.");
        Identifiers.EventId eventId;
        try
        {
            eventId = EventHashing.ComputeEventId(version, pdu);
        }
        catch (Exception e) when (e is ArgumentException or CanonicalJsonException)
        {
            throw MatrixRequestException.BadJson($"The event has no valid event ID: {e.Message}");
        }
        if (eventId.Value != pathEventId) throw MatrixRequestException.InvalidParam($"The event's ID is {eventId}, not {pathEventId}.");
        return (invitee!, eventId);
    }

    /// <summary>v2: <c>{room_version, event, invite_room_state}</c>.</summary>
    private static (string Version, byte[] Event, JsonArray RoomState) ReadV2(byte[] body)
    {
        if (Parse(body) is not JsonObject request) throw MatrixRequestException.BadJson("The body is not a JSON object.");
        if (request["room_version"] is not JsonValue version || version.GetValueKind() != JsonValueKind.String)
            throw new MatrixRequestException("M_MISSING_PARAM", "room_version is required.");
        if (request["event"] is not JsonObject invite) throw new MatrixRequestException("M_MISSING_PARAM", "event is required.");
        var state = request["invite_room_state"] switch
        {
            null => new JsonArray(),
            JsonArray array => array,
            _ => throw MatrixRequestException.BadJson("invite_room_state must be an array."),
        };
        return (version.GetValue<string>(), JsonSerializer.SerializeToUtf8Bytes(invite), StrippedState(state));
    }

    /// <summary>v1: the event, its stripped state in <c>unsigned.invite_room_state</c>; only room versions 1 and 2 use it.</summary>
    private static (string Version, byte[] Event, JsonArray RoomState) ReadV1(byte[] body)
    {
        if (Parse(body) is not JsonObject invite) throw MatrixRequestException.BadJson("The body is not a JSON object.");
        var state = invite["unsigned"]?["invite_room_state"] as JsonArray ?? [];
        return ("1", body, StrippedState(state));
    }

    /// <summary>What the invitee's client gets of each entry: a stripped state event (type, state_key, sender, content).</summary>
    private static JsonArray StrippedState(JsonArray entries)
    {
        var stripped = new JsonArray();
        foreach (var entry in entries)
        {
            if (entry is not JsonObject e || Text(e, "type") is not { } type || Text(e, "state_key") is not { } stateKey
                || Text(e, "sender") is not { } sender || e["content"] is not JsonObject content)
                throw MatrixRequestException.InvalidParam("Each entry of invite_room_state must be a state event with type, state_key, sender and content.");
            stripped.Add(new JsonObject { ["content"] = content.DeepClone(), ["sender"] = sender, ["state_key"] = stateKey, ["type"] = type });
        }
        return stripped;
    }

    private async Task<byte[]> SendAsync(string destination, HttpMethod method, string path, JsonNode? content)
    {
        FederationResponse response;
        try
        {
            response = await client.SendAsync(destination, method, path, content, CancellationToken.None);
        }
        catch (FederationRequestException e)
        {
            logger.LogWarning(e, "Rejecting an invite to {RoomId} through {Destination} failed", Key, destination);
            throw Unavailable(destination, "it could not be reached");
        }
        if (response.IsSuccess) return response.Body;
        var error = ErrorOf(response.Body);
        if (response.StatusCode == HttpStatusCode.Forbidden) throw MatrixRequestException.Forbidden($"{destination} refused: {error}");
        throw Unavailable(destination, $"it answered {(int)response.StatusCode} {error}");
    }

    private static string ErrorOf(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body)?["error"]?.GetValue<string>() ?? "";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "";
        }
    }

    private static MatrixRequestException Unavailable(string destination, string why) =>
        new("M_UNKNOWN", $"The invite could not be rejected through {destination}: {why}.");

    private async Task NotifySyncAsync(string userId, long position)
    {
        try
        {
            await GrainFactory.GetGrain<ISyncGrain>(userId).NotifyAsync(new SyncNotice(SyncNoticeKind.AccountData, Key, position));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The invite is stored: the user's next /sync reads it from the store, a parked one only later.
            logger.LogWarning(e, "Waking the /sync of {UserId} for an invite to {RoomId} failed", userId, Key);
        }
    }

    private static JsonNode? ParseOrNull(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonNode? Parse(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            throw new MatrixRequestException("M_NOT_JSON", "The body is not JSON.");
        }
    }

    private static string? Text(JsonObject json, string key) =>
        json[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
