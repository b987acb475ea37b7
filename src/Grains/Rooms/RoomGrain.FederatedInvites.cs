using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// A local member invites a user of another server: the room builds and signs the invite as it would append it, the
/// invitee's server signs it too (<c>PUT /_matrix/federation/v2/invite</c>), and only then is it appended. Nothing is
/// appended when that server refuses or cannot be reached. See docs/adr/0038-federated-invites-and-leaves.md.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>The state sent with an invite so the invitee can tell the room: as the client API's stripped state, and the inviter.</summary>
    private static readonly string[] InviteRoomStateTypes =
        [EventTypes.Create, EventTypes.JoinRules, "m.room.name", "m.room.avatar", "m.room.canonical_alias", "m.room.encryption"];

    /// <summary>How often an invite is built again when the room moved on while the invitee's server was signing it.</summary>
    private const int RemoteInviteAttempts = 3;

    /// <param name="content">The invite's content: by default the membership and the request's reason.</param>
    private async Task InviteRemoteUserAsync(MembershipRequest request, UserId target, JsonObject? content = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var snapshot = RequireRoom();
            if (snapshot.MembershipOf(request.TargetUserId) == Membership.Invite && snapshot.IsJoined(request.SenderUserId)) return;
            var (eventId, invite) = BuildInvite(snapshot, request, content ?? MembershipContent(Membership.Invite, request.Reason));
            var signed = await CountersignInviteAsync(snapshot, target, eventId, invite);
            var json = CanonicalJson.Encode(signed, snapshot.Version.StrictCanonicalJson);
            var built = new BuiltEvent(eventId, json, Pdu.Parse(eventId, json));
            var appended = await _writer.SubmitAsync(builder =>
            {
                // Built on the newest event: another event appended meanwhile means this invite no longer follows it.
                if (builder.View.LastEventId?.Value != built.Pdu.PrevEvents[0]) return null;
                builder.AddReceived(built);
                return eventId.Value;
            });
            if (appended is not null) return;
            if (attempt == RemoteInviteAttempts)
                throw new MatrixRequestException("M_UNKNOWN", "The room kept changing while the invite was being signed; try again.");
        }
    }

    /// <summary>The invite as this room would append it now (authorised against the current state), without this server's unsigned data.</summary>
    private (Identifiers.EventId EventId, JsonObject Pdu) BuildInvite(RoomSnapshot snapshot, MembershipRequest request, JsonObject content)
    {
        var dryRun = new RoomBatchBuilder(snapshot, Clock, signingKey.Current);
        var planned = dryRun.Add(EventSpec.Member(request.TargetUserId, request.SenderUserId, (JsonObject)content.DeepClone()));
        return (planned.EventId, StoredEventJson.PduOf(planned));
    }

    /// <summary>
    /// Sends the invite to the invitee's server and returns it with that server's signature added, after checking the
    /// answer is the same event (same id, nothing changed but signatures) signed by that server with a key it publishes.
    /// </summary>
    private async Task<JsonObject> CountersignInviteAsync(RoomSnapshot snapshot, UserId target, Identifiers.EventId eventId, JsonObject invite)
    {
        var version = snapshot.Version;
        var destination = target.Server.ToString();
        var body = new JsonObject
        {
            ["event"] = invite.DeepClone(),
            ["invite_room_state"] = InviteRoomState(snapshot, invite["sender"]!.GetValue<string>()),
            ["room_version"] = version.Id,
        };
        FederationResponse response;
        try
        {
            response = await ServiceProvider.GetRequiredService<FederationClient>().SendAsync(destination, HttpMethod.Put,
                $"/_matrix/federation/v2/invite/{Uri.EscapeDataString(RoomId)}/{Uri.EscapeDataString(eventId.Value)}", body, CancellationToken.None);
        }
        catch (FederationRequestException e)
        {
            logger.LogWarning(e, "Inviting a user of {Destination} to {RoomId} failed", destination, RoomId);
            throw new MatrixRequestException("M_UNKNOWN", $"The invite could not be sent: {destination} could not be reached.");
        }
        if (!response.IsSuccess) throw RefusedInvite(destination, response);

        JsonObject returned;
        try
        {
            returned = JsonNode.Parse(response.Body)?["event"] as JsonObject ?? throw new JsonException("no event");
        }
        catch (JsonException)
        {
            throw BadInviteAnswer(destination, "it has no event");
        }
        if (!SameEventExceptSignatures(invite, returned)) throw BadInviteAnswer(destination, "it is not the event sent");
        if (returned["signatures"]?[destination] is not JsonObject theirs) throw BadInviteAnswer(destination, $"it is not signed by {destination}");

        var signed = (JsonObject)invite.DeepClone();
        signed["signatures"]![destination] = theirs.DeepClone();
        var verified = false;
        foreach (var keyId in theirs.Select(entry => entry.Key).Where(k => k.StartsWith(ServerSigningKey.Algorithm + ":", StringComparison.Ordinal)))
        {
            var publicKey = await GrainFactory.GetGrain<IRemoteServerKeysGrain>(destination).GetVerifyKeyAsync(keyId, invite["origin_server_ts"]!.GetValue<long>());
            if (publicKey is not null && EventSigning.Verify(version, signed, destination, keyId, publicKey))
            {
                verified = true;
                break;
            }
        }
        if (!verified) throw BadInviteAnswer(destination, $"the signature of {destination} does not verify");
        if (EventHashing.ComputeEventId(version, signed) != eventId) throw BadInviteAnswer(destination, "its event id differs");
        return signed;
    }

    private static bool SameEventExceptSignatures(JsonObject sent, JsonObject returned)
    {
        var a = (JsonObject)sent.DeepClone();
        var b = (JsonObject)returned.DeepClone();
        foreach (var o in new[] { a, b })
        {
            o.Remove("signatures");
            o.Remove("unsigned");
        }
        // The invitee's server adds its signature; ours must come back as it was sent.
        return JsonNode.DeepEquals(a, b)
               && returned["signatures"] is JsonObject signatures && sent["signatures"] is JsonObject ours
               && ours.All(entry => JsonNode.DeepEquals(entry.Value, signatures[entry.Key]));
    }

    /// <summary>The room's descriptive state and the inviter's member event, as PDUs of the room version (the spec asks for the create event among them).</summary>
    private static JsonArray InviteRoomState(RoomSnapshot snapshot, string inviter)
    {
        var events = InviteRoomStateTypes.Select(type => snapshot.State.Get(new StateEventKey(type, "")))
            .Append(snapshot.State.Get(new StateEventKey(EventTypes.Member, inviter)))
            .OfType<Pdu>();
        return new JsonArray([.. events.Select(e => (JsonNode)StoredEventJson.PduOf(e))]);
    }

    private static MatrixRequestException RefusedInvite(string destination, FederationResponse response)
    {
        string? errcode = null, error = null;
        try
        {
            var body = JsonNode.Parse(response.Body);
            errcode = body?["errcode"]?.GetValue<string>();
            error = body?["error"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
        }
        var why = $"{destination} refused the invite ({(int)response.StatusCode} {errcode}: {error})";
        // A refusal of the invitee's server is passed on; a request it finds malformed is this server's fault (5xx, as the spec asks).
        return response.StatusCode == HttpStatusCode.Forbidden ? MatrixRequestException.Forbidden(why)
            : errcode == "M_INCOMPATIBLE_ROOM_VERSION" ? new MatrixRequestException("M_INCOMPATIBLE_ROOM_VERSION", why)
            : new MatrixRequestException("M_UNKNOWN", why);
    }

    private static MatrixRequestException BadInviteAnswer(string destination, string why) =>
        new("M_UNKNOWN", $"The invite could not be sent: the answer of {destination} is refused, {why}.");
}
