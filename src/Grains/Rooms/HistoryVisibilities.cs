using HomeServer.Grains.Events;

namespace HomeServer.Grains.Rooms;

/// <summary>Values of <c>m.room.history_visibility</c>, from most to least permissive.</summary>
internal static class HistoryVisibilities
{
    public const string WorldReadable = "world_readable";
    public const string Shared = "shared";
    public const string Invited = "invited";
    public const string Joined = "joined";

    /// <summary>A room without the event is <c>shared</c>; an unknown value is treated as the strictest, <c>joined</c>.</summary>
    public static string Normalize(string? value) => value switch
    {
        null => Shared,
        WorldReadable or Shared or Invited or Joined => value,
        _ => Joined,
    };

    /// <summary>Higher is more permissive.</summary>
    public static int Rank(string value) => value switch
    {
        WorldReadable => 3,
        Shared => 2,
        Invited => 1,
        _ => 0,
    };

    /// <summary>
    /// Whether an event under <paramref name="visibility"/> may be seen by a user whose membership at it was
    /// <paramref name="membership"/> and who is or becomes joined at or after it (<paramref name="joinedLater"/>).
    /// </summary>
    public static bool Allows(string visibility, string membership, bool joinedLater) => visibility switch
    {
        WorldReadable => true,
        _ when membership == Membership.Join => true,
        Shared => joinedLater,
        Invited => membership == Membership.Invite,
        _ => false,
    };
}
