using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>The room side of the Guest Access module: <c>m.room.guest_access</c> and who counts as a guest.</summary>
internal static class GuestAccess
{
    public const string EventType = "m.room.guest_access";
    public const string CanJoin = "can_join";

    /// <summary>Whether guests may join the room now: only with <c>guest_access</c> set to <c>can_join</c>.</summary>
    public static bool GuestsMayJoin(RoomSnapshot room) => room.ContentString(EventType, "guest_access") == CanJoin;

    /// <summary>
    /// Only a local user with a numeric localpart can be a guest (<see cref="GuestUserIds"/>); the account says
    /// whether it still is (an upgraded guest keeps its id).
    /// </summary>
    public static bool MayBeGuest(string userId, LocalServer server) =>
        server.IsLocal(userId) && UserId.TryParse(userId, out var parsed) && GuestUserIds.IsGuestLocalpart(parsed.Localpart);
}
