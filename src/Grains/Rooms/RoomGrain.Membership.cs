using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    public Task JoinAsync(string userId, string? reason) =>
        JoinWithContentAsync(new JoinRequest(userId, JsonSerializer.SerializeToElement(MembershipContent(Membership.Join, reason))));

    public async Task JoinWithContentAsync(JoinRequest request)
    {
        if (_writer.Current is not { Exists: true }) throw MatrixRequestException.NotFound("Unknown room.");
        // As Synapse: the whole body of the join request is the member content, so custom keys survive.
        var content = request.Content.ValueKind == JsonValueKind.Undefined ? new JsonObject() : ContentObject(request.Content);
        content["membership"] = Membership.Join;
        await AddProfileAsync(request.UserId, content);
        await AuthoriseRestrictedJoinAsync(request.UserId, content); // see RoomGrain.JoinRules.cs
        var isGuest = await IsGuestAsync(request.UserId);
        var joinedBefore = false;
        await _writer.SubmitAsync(builder =>
        {
            joinedBefore = builder.View.IsJoined(request.UserId);
            if (isGuest && !joinedBefore) RequireGuestsMayJoin(builder.View);
            // Joining again with the same content changes nothing (the same event answers); other content is a new event.
            builder.AddUnlessUnchanged(EventSpec.Member(request.UserId, request.UserId, content));
            return null;
        });
        if (!joinedBefore) await MarkReadUpToJoinAsync(request.UserId);
    }

    /// <summary>
    /// What came before one's own join (the invite among it) is not unread once joined: the join moves the user's read
    /// mark up to itself, as a receipt on it would. Best effort: the join is committed, and a failure here only leaves
    /// the invite counted until the user's first receipt.
    /// </summary>
    private async Task MarkReadUpToJoinAsync(string userId)
    {
        if (_writer.Current?.Get(EventTypes.Member, userId) is not { } join) return;
        try
        {
            var stored = await RequireEventInRoomAsync(join.EventId.Value);
            await store.Push.SetReadMarkAsync(userId, RoomId, "", stored.RoomPosition, CancellationToken.None);
        }
        catch (Exception e) when (e is StoreUnavailableException or MatrixRequestException)
        {
            logger.LogWarning(e, "The read mark of {UserId} in {RoomId} was not moved to their join", userId, RoomId);
        }
    }

    public async Task InviteAsync(MembershipRequest request)
    {
        RequireRoom();
        RequireUserId(request.TargetUserId);
        if (!server.IsLocal(request.TargetUserId))
        {
            await InviteRemoteUserAsync(request, UserId.Parse(request.TargetUserId)); // see RoomGrain.FederatedInvites.cs
            return;
        }
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
        if (_writer.Current is not { Exists: true })
        {
            // A room of another server this server does not have: the only way to be in it is an invite to reject.
            await GrainFactory.GetGrain<Federation.IFederatedInviteGrain>(RoomId).RejectAsync(userId, reason);
            return;
        }
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
        await AddProfileAsync(userId, content);
        return content;
    }

    /// <summary>
    /// As Synapse: a join, invite or knock of a local user carries their profile's displayname and avatar_url,
    /// unless the content already has the key (a per-room profile, or an explicit null).
    /// </summary>
    private async Task AddProfileAsync(string userId, JsonObject content)
    {
        if (content["membership"] is not JsonValue value || !value.TryGetValue<string>(out var membership)
            || membership is not (Membership.Join or Membership.Invite or Membership.Knock)) return;
        if (!server.IsLocal(userId) || content.ContainsKey("displayname") && content.ContainsKey("avatar_url")) return;
        var account = await store.Accounts.GetAccountAsync(userId, CancellationToken.None);
        if (account?.DisplayName is { } displayName && !content.ContainsKey("displayname")) content["displayname"] = displayName;
        if (account?.AvatarUrl is { } avatarUrl && !content.ContainsKey("avatar_url")) content["avatar_url"] = avatarUrl;
    }

    private static void RequireUserId(string userId)
    {
        if (!UserId.IsValid(userId)) throw MatrixRequestException.InvalidParam($"'{userId}' is not a user ID.");
    }
}
