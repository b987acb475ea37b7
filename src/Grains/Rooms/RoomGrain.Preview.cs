using System.Text.Json;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Rooms;

/// <summary>Room previews for the room summary (MSC3266) and space hierarchy endpoints.</summary>
public sealed partial class RoomGrain
{
    private const string SpaceChildType = "m.space.child";

    public async Task<RoomPreview?> GetPreviewAsync(string? userId)
    {
        if (_writer.Current is not { Exists: true } snapshot) return null;
        var summary = await GetPublicSummaryAsync();
        var membership = userId is null ? null : snapshot.Get(EventTypes.Member, userId)?.GetContentString("membership");
        if (!await MayPreviewAsync(snapshot, userId, membership)) return null;
        return BuildPreview(snapshot, summary!, membership);
    }

    private RoomPreview BuildPreview(RoomSnapshot snapshot, PublicRoomSummary summary, string? membership)
    {
        var joinRules = snapshot.Get(EventTypes.JoinRules);
        var allowed = IsRestricted(snapshot) && joinRules is not null ? AllowedRoomIds(joinRules.Content) : [];
        var children = snapshot.State
            .Where(entry => entry.Key.Type == SpaceChildType && Identifiers.RoomId.IsValid(entry.Key.StateKey) && HasVia(entry.Value.Content))
            .Select(entry => ToSpaceChild(entry.Value))
            .OrderBy(child => child.RoomId, StringComparer.Ordinal)
            .ToList();
        return new RoomPreview(summary, snapshot.Version.Id, snapshot.ContentString("m.room.encryption", "algorithm"), allowed, membership, children);
    }

    private async Task<bool> MayPreviewAsync(RoomSnapshot snapshot, string? userId, string? membership)
    {
        var joinRule = snapshot.ContentString(EventTypes.JoinRules, "join_rule");
        var version = snapshot.Version;
        if (joinRule == JoinRules.Public
            || (joinRule == JoinRules.Knock && version.KnockJoinRule)
            || (joinRule == JoinRules.KnockRestricted && version.KnockRestrictedJoinRule)
            || snapshot.HistoryVisibility == HistoryVisibilities.WorldReadable)
            return true;
        if (userId is null) return false;
        if (membership is Membership.Join or Membership.Invite) return true;
        return IsRestricted(snapshot) && membership != Membership.Ban
            && await IsInAllowedRoomAsync(userId, snapshot.Get(EventTypes.JoinRules)!.Content);
    }

    private static bool IsRestricted(RoomSnapshot snapshot)
    {
        var joinRule = snapshot.ContentString(EventTypes.JoinRules, "join_rule");
        return (joinRule == JoinRules.Restricted && snapshot.Version.RestrictedJoinRule)
            || (joinRule == JoinRules.KnockRestricted && snapshot.Version.KnockRestrictedJoinRule);
    }

    private static List<string> AllowedRoomIds(JsonElement joinRulesContent)
    {
        if (!joinRulesContent.TryGetProperty("allow", out var allow) || allow.ValueKind != JsonValueKind.Array) return [];
        return allow.EnumerateArray()
            .Where(c => c.ValueKind == JsonValueKind.Object
                && c.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "m.room_membership"
                && c.TryGetProperty("room_id", out var roomId) && roomId.ValueKind == JsonValueKind.String && Identifiers.RoomId.IsValid(roomId.GetString()))
            .Select(c => c.GetProperty("room_id").GetString()!)
            .Distinct()
            .ToList();
    }

    /// <summary>A child counts only with a non-empty via list; an emptied content removes it (the spec's m.space.child).</summary>
    private static bool HasVia(JsonElement content) =>
        content.TryGetProperty("via", out var via) && via.ValueKind == JsonValueKind.Array && via.GetArrayLength() > 0;

    private static SpaceChild ToSpaceChild(Pdu pdu)
    {
        var content = pdu.Content;
        var suggested = content.TryGetProperty("suggested", out var s) && s.ValueKind == JsonValueKind.True;
        var order = content.TryGetProperty("order", out var o) && o.ValueKind == JsonValueKind.String && IsValidOrder(o.GetString()!)
            ? o.GetString()
            : null;
        var ts = pdu.Json.TryGetProperty("origin_server_ts", out var t) && t.TryGetInt64(out var value) ? value : 0;
        return new SpaceChild(pdu.StateKey!, pdu.Sender.Value, ts, content.GetRawText(), suggested, order);
    }

    private static bool IsValidOrder(string order) => order.Length <= 50 && order.All(c => c is >= '\x20' and <= '\x7E');
}
