using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    public async Task JoinAsync(string userId, string? reason)
    {
        if (_writer.Current is not { Exists: true }) throw MatrixRequestException.NotFound("Unknown room.");
        var profile = await ProfileContentAsync(userId, Membership.Join, reason);
        var isGuest = await IsGuestAsync(userId);
        await _writer.SubmitAsync(builder =>
        {
            if (builder.View.IsJoined(userId)) return null;
            if (isGuest) RequireGuestsMayJoin(builder.View);
            builder.Add(EventSpec.Member(userId, userId, profile));
            return null;
        });
    }

    public async Task InviteAsync(MembershipRequest request)
    {
        RequireRoom();
        RequireUserId(request.TargetUserId);
        var content = await ProfileContentAsync(request.TargetUserId, Membership.Invite, request.Reason);
        await _writer.SubmitAsync(builder =>
        {
            if (builder.View.MembershipOf(request.TargetUserId) == Membership.Invite && builder.View.IsJoined(request.SenderUserId))
                return null;
            builder.Add(EventSpec.Member(request.TargetUserId, request.SenderUserId, content));
            return null;
        });
    }

    public async Task LeaveAsync(string userId, string? reason)
    {
        RequireRoom();
        await _writer.SubmitAsync(builder =>
        {
            if (builder.View.MembershipOf(userId) == Membership.Leave && builder.View.Get(EventTypes.Member, userId) is not null)
                return null;
            builder.Add(EventSpec.Member(userId, userId, MembershipContent(Membership.Leave, reason)));
            return null;
        });
    }

    public async Task KickAsync(MembershipRequest request)
    {
        RequireRoom();
        RequireUserId(request.TargetUserId);
        await _writer.SubmitAsync(builder =>
        {
            var target = builder.View.MembershipOf(request.TargetUserId);
            if (target is not (Membership.Join or Membership.Invite or Membership.Knock))
                throw MatrixRequestException.Forbidden("The user is not in the room.");
            builder.Add(EventSpec.Member(request.TargetUserId, request.SenderUserId, MembershipContent(Membership.Leave, request.Reason)));
            return null;
        });
    }

    public async Task BanAsync(MembershipRequest request)
    {
        RequireRoom();
        RequireUserId(request.TargetUserId);
        await _writer.SubmitAsync(builder =>
        {
            builder.Add(EventSpec.Member(request.TargetUserId, request.SenderUserId, MembershipContent(Membership.Ban, request.Reason)));
            return null;
        });
    }

    public async Task UnbanAsync(MembershipRequest request)
    {
        RequireRoom();
        RequireUserId(request.TargetUserId);
        await _writer.SubmitAsync(builder =>
        {
            // Without this check an "unban" of a member would be a kick.
            if (builder.View.MembershipOf(request.TargetUserId) != Membership.Ban)
                throw MatrixRequestException.Forbidden("The user is not banned.");
            builder.Add(EventSpec.Member(request.TargetUserId, request.SenderUserId, MembershipContent(Membership.Leave, request.Reason)));
            return null;
        });
    }

    public async Task ForgetAsync(string userId)
    {
        var snapshot = _writer.Current is { Exists: true } s ? s : throw MatrixRequestException.NotFound("Unknown room.");
        var membership = snapshot.Get(EventTypes.Member, userId)?.GetContentString("membership");
        switch (membership)
        {
            case null:
                throw MatrixRequestException.NotFound("You have never been in this room.");
            case Membership.Join or Membership.Invite or Membership.Knock:
                throw new MatrixRequestException("M_UNKNOWN", $"User {userId} is in room {RoomId}.");
        }
        await store.Rooms.SetForgottenAsync(userId, RoomId, CancellationToken.None);
    }

    public async Task UpdateMemberProfileAsync(string userId, string? displayName, string? avatarUrl)
    {
        if (_writer.Current is not { Exists: true }) return;
        await _writer.SubmitAsync(builder =>
        {
            if (builder.View.Get(EventTypes.Member, userId) is not { } member || !builder.View.IsJoined(userId)) return null;
            if (member.GetContentString("displayname") == displayName && member.GetContentString("avatar_url") == avatarUrl) return null;
            var content = new JsonObject { ["membership"] = Membership.Join };
            if (displayName is not null) content["displayname"] = displayName;
            if (avatarUrl is not null) content["avatar_url"] = avatarUrl;
            builder.Add(EventSpec.Member(userId, userId, content));
            return null;
        });
    }

    private static JsonObject MembershipContent(string membership, string? reason)
    {
        var content = new JsonObject { ["membership"] = membership };
        if (reason is not null) content["reason"] = reason;
        return content;
    }

    /// <summary>Member content with the user's profile when they have a local account, as clients expect on joins and invites.</summary>
    private async Task<JsonObject> ProfileContentAsync(string userId, string membership, string? reason)
    {
        var content = MembershipContent(membership, reason);
        if (!server.IsLocal(userId)) return content;
        var account = await store.Accounts.GetAccountAsync(userId, CancellationToken.None);
        if (account?.DisplayName is { } displayName) content["displayname"] = displayName;
        if (account?.AvatarUrl is { } avatarUrl) content["avatar_url"] = avatarUrl;
        return content;
    }

    private static void RequireUserId(string userId)
    {
        if (!UserId.IsValid(userId)) throw MatrixRequestException.InvalidParam($"'{userId}' is not a user ID.");
    }
}
