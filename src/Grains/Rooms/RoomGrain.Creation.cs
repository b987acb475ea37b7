using HomeServer.Storage;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    public async Task CreateAsync(CreateRoomRequest request)
    {
        var plan = RoomCreationPlan.Create(request, server, await ProfileContentAsync(request.CreatorUserId, Events.Membership.Join, reason: null));
        if (_writer.Current is not null)
            throw new MatrixRequestException("M_ROOM_IN_USE", "A room with this id exists already.");

        // Everything the request implies is authorised before anything is written, so a refused request leaves nothing behind.
        var dryRun = new RoomBatchBuilder(RoomSnapshot.Empty(RoomId, plan.Version), Clock, signingKey.Current);
        try
        {
            foreach (var spec in plan.Events) dryRun.Add(spec);
        }
        catch (MatrixRequestException e) when (e.ErrCode == "M_FORBIDDEN")
        {
            throw new MatrixRequestException("M_INVALID_ROOM_STATE", $"The initial state of the room is invalid: {e.Error}");
        }

        if (plan.Alias is not null && await store.Aliases.GetAliasAsync(plan.Alias, CancellationToken.None) is not null)
            throw new MatrixRequestException("M_ROOM_IN_USE", $"The alias {plan.Alias} is already in use.");

        var now = Clock();
        if (!await store.Rooms.CreateRoomAsync(new NewRoom(RoomId, plan.Version.Id, request.CreatorUserId, now, request.Publish), CancellationToken.None))
            throw new MatrixRequestException("M_ROOM_IN_USE", "A room with this id exists already.");
        if (plan.Alias is not null
            && !await store.Aliases.CreateAliasAsync(new RoomAlias(plan.Alias, RoomId, request.CreatorUserId), CancellationToken.None))
            throw new MatrixRequestException("M_ROOM_IN_USE", $"The alias {plan.Alias} is already in use.");

        _writer.StartEmpty(RoomSnapshot.Empty(RoomId, plan.Version));
        try
        {
            await _writer.SubmitAsync(builder =>
            {
                foreach (var spec in plan.Events) builder.Add(spec);
                return null;
            });
        }
        catch
        {
            // The room record stays (room ids are never reused) but without events it does not exist for anyone.
            if (plan.Alias is not null) await store.Aliases.DeleteAliasAsync(plan.Alias, CancellationToken.None);
            throw;
        }

        foreach (var invitee in plan.RemoteInvitees)
        {
            try
            {
                await InviteRemoteUserAsync(new MembershipRequest(request.CreatorUserId, invitee, null), Identifiers.UserId.Parse(invitee),
                    RoomCreationPlan.InviteContent(request.IsDirect));
            }
            catch (MatrixRequestException e)
            {
                // The room exists: a refused or unreachable invitee's server does not undo it; the creator may invite again.
                logger.LogWarning("Inviting {Invitee} to the new room {RoomId} failed: {Error}", invitee, RoomId, e.Error);
            }
        }
    }
}
