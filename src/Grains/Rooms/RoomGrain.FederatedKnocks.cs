using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// A user of another server knocks on a room of this server through <c>make_knock</c>/<c>send_knock</c> (room
/// versions 7+): the checks and append of a remote join (docs/adr/0034) for <c>membership: knock</c>, answered with the
/// room's stripped state as PDUs. See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
public sealed partial class RoomGrain : IRoomFederatedKnocks
{
    public Task<MakeJoinResult> MakeKnockAsync(string origin, string userId, IReadOnlyList<string> supportedVersions)
    {
        if (origin == server.Name) throw MatrixRequestException.Forbidden("This server's own users do not knock over federation.");
        var snapshot = RequireAllowedByAcl(origin);
        if (!UserId.TryParse(userId, out var user)) throw MatrixRequestException.InvalidParam($"'{userId}' is not a user ID.");
        if (user.Server.ToString() != origin) throw MatrixRequestException.Forbidden($"{userId} is not a user of {origin}.");
        if (!supportedVersions.Contains(snapshot.Version.Id)) return Task.FromResult(new MakeJoinResult(snapshot.Version.Id, null));
        // Versions before 7 and join rules other than knock and knock_restricted: the auth rules refuse, 403.
        return Task.FromResult(new MakeJoinResult(snapshot.Version.Id, MembershipTemplate(snapshot, user, Membership.Knock)));
    }

    public async Task<byte[]> SendKnockAsync(SendJoinRequest request)
    {
        if (request.Origin == server.Name) throw MatrixRequestException.Forbidden("This server's own users do not knock over federation.");
        var snapshot = RequireAllowedByAcl(request.Origin);
        var version = snapshot.Version;
        var sent = await CheckSentMembershipAsync(snapshot, request, Membership.Knock);
        if (sent.Known is not null) return KnockRoomState(RequireRoom()); // Sent again: the knock is in the room already.
        await AuthoriseByAuthEventsAsync(snapshot, sent.Received);

        var signed = SignAsResident(version, sent);
        await _writer.SubmitAsync(builder =>
        {
            builder.AddReceived(signed);
            return signed.EventId.Value;
        });
        return KnockRoomState(RequireRoom());
    }

    /// <summary>
    /// <c>{"knock_room_state": [...]}</c>: the room's create event and descriptive state (as sent with invites), as PDUs
    /// of the room version, which the knocking server gives its user as stripped state.
    /// </summary>
    private static byte[] KnockRoomState(RoomSnapshot snapshot)
    {
        var state = new JsonArray([.. InviteRoomStateTypes.Select(type => snapshot.State.Get(new StateEventKey(type, ""))).OfType<Pdu>()
            .Select(e => (JsonNode)StoredEventJson.PduOf(e))]);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("knock_room_state");
            state.WriteTo(writer);
            writer.WriteEndObject();
        });
    }
}
