using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// A user of another server leaves a room of this server (or rejects an invite to it) through <c>make_leave</c> and
/// <c>send_leave</c>: the same checks and append as a remote join (docs/adr/0034), for <c>membership: leave</c>.
/// See docs/adr/0038-federated-invites-and-leaves.md.
/// </summary>
public sealed partial class RoomGrain
{
    public Task<byte[]> MakeLeaveAsync(string origin, string userId)
    {
        if (origin == server.Name) throw MatrixRequestException.Forbidden("This server's own users do not leave over federation.");
        var snapshot = RequireAllowedByAcl(origin);
        if (!UserId.TryParse(userId, out var user)) throw MatrixRequestException.InvalidParam($"'{userId}' is not a user ID.");
        if (user.Server.ToString() != origin) throw MatrixRequestException.Forbidden($"{userId} is not a user of {origin}.");

        // A user who is not in the room (nor invited) cannot leave it: the auth rules refuse, and so does make_leave.
        return Task.FromResult(MembershipTemplate(snapshot, user, Membership.Leave));
    }

    public async Task SendLeaveAsync(SendJoinRequest request)
    {
        if (request.Origin == server.Name) throw MatrixRequestException.Forbidden("This server's own users do not leave over federation.");
        var snapshot = RequireAllowedByAcl(request.Origin);
        var version = snapshot.Version;
        var (eventId, pdu) = ReceivedJoinEvent.Check(version, RoomId, request.Origin, request.EventId, request.Event, Membership.Leave);

        await VerifySignaturesAsync(version, pdu);
        // As for send_join: the leaving server built this event for this request, so a hash mismatch is refused.
        if (!ReceivedJoinEvent.HasValidContentHash(version, pdu))
            throw MatrixRequestException.InvalidParam("The event's content hash does not match its content.");

        var received = Pdu.Parse(eventId, CanonicalJson.Encode(pdu, version.StrictCanonicalJson));
        var known = await store.Events.GetEventAsync(eventId.Value, CancellationToken.None);
        if (known is not null)
        {
            if (known.RoomId != RoomId || known.Type != EventTypes.Member || known.StateKey != received.Sender.Value || known.Sender != received.Sender.Value)
                throw MatrixRequestException.InvalidParam("The event id names another event.");
            return; // Sent again: the leave is in the room already.
        }
        await AuthoriseByAuthEventsAsync(snapshot, received);

        EventSigning.Sign(version, pdu, signingKey.Current);
        var json = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        var signed = new BuiltEvent(eventId, json, Pdu.Parse(eventId, json));
        await _writer.SubmitAsync(builder =>
        {
            builder.AddReceived(signed);
            return eventId.Value;
        });
    }
}
