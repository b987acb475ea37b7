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
}
