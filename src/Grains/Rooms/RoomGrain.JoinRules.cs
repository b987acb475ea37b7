using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Rooms;

/// <summary>Knocking (v7+) and joins through a restricted join rule's allow list (v8+).</summary>
public sealed partial class RoomGrain
{
    public async Task KnockAsync(string userId, string? reason)
    {
        if (_writer.Current is not { Exists: true }) throw MatrixRequestException.NotFound("Unknown room.");
        var content = await ProfileContentAsync(userId, Membership.Knock, reason);
        await _writer.SubmitAsync(builder =>
        {
            // The authorization rules refuse knocks in versions without them and in rooms whose join rule does not
            // allow them, with 403 M_FORBIDDEN as the spec's /knock lists.
            builder.Add(EventSpec.Member(userId, userId, content));
            return null;
        });
    }

    /// <summary>
    /// For a user who is neither invited nor joined and tries to join a room whose join rule is restricted (v8+) or
    /// knock_restricted (v10+): checks that they are joined to a room of the allow list and names, in
    /// <c>join_authorised_via_users_server</c>, a local member who may invite, as the spec's restricted rooms
    /// section has the resident server do. Rooms of other join rules are left to the authorization rules.
    /// </summary>
    private async Task AuthoriseRestrictedJoinAsync(string userId, JsonObject joinContent)
    {
        var snapshot = _writer.Current!;
        var version = snapshot.Version;
        var joinRules = snapshot.Get(EventTypes.JoinRules);
        var joinRule = joinRules?.GetContentString("join_rule");
        var restricted = (joinRule == JoinRules.Restricted && version.RestrictedJoinRule)
            || (joinRule == JoinRules.KnockRestricted && version.KnockRestrictedJoinRule);
        if (!restricted || snapshot.MembershipOf(userId) is Membership.Invite or Membership.Join) return;

        if (!await IsInAllowedRoomAsync(userId, joinRules!.Content))
            throw MatrixRequestException.Forbidden("You are not a member of any of the rooms this room's join rule allows.");
        var powerLevels = snapshot.PowerLevels;
        var authoriser = snapshot.JoinedMembers
            .Where(member => server.IsLocal(member) && powerLevels.UserLevel(member) >= powerLevels.Invite)
            .OrderByDescending(powerLevels.UserLevel)
            .ThenBy(member => member, StringComparer.Ordinal)
            .FirstOrDefault()
            ?? throw MatrixRequestException.Forbidden("No member of this room may invite, so nobody can authorise the join.");
        joinContent["join_authorised_via_users_server"] = authoriser;
    }

    private async Task<bool> IsInAllowedRoomAsync(string userId, JsonElement joinRulesContent)
    {
        if (!joinRulesContent.TryGetProperty("allow", out var allow) || allow.ValueKind != JsonValueKind.Array) return false;
        foreach (var condition in allow.EnumerateArray())
        {
            if (condition.ValueKind != JsonValueKind.Object
                || !condition.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || type.GetString() != "m.room_membership"
                || !condition.TryGetProperty("room_id", out var roomId) || roomId.ValueKind != JsonValueKind.String
                || !Identifiers.RoomId.IsValid(roomId.GetString())
                || roomId.GetString() == RoomId)
                continue;
            if (await GrainFactory.GetGrain<IRoomGrain>(roomId.GetString()!).IsJoinedAsync(userId)) return true;
        }
        return false;
    }
}
