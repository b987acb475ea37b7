using HomeServer.Grains.Events;
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
        var sent = await CheckSentMembershipAsync(snapshot, request, Membership.Leave);
        if (sent.Known is not null) return; // Sent again: the leave is in the room already.
        await AuthoriseByAuthEventsAsync(snapshot, sent.Received);

        var signed = SignAsResident(version, sent);
        await _writer.SubmitAsync(builder =>
        {
            builder.AddReceived(signed);
            return signed.EventId.Value;
        });
    }
}
