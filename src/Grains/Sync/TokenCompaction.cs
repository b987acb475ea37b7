using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Moves a token's event position over every position the user either already has (it is in the token's delivered
/// set) or has nothing to do with, so that the delivered set empties instead of overflowing into a store read
/// (docs/adr/0032-token-compaction.md).
/// </summary>
internal static class TokenCompaction
{
    /// <param name="events">The token's event position; the window must start at or below it.</param>
    /// <param name="delivered">The positions above it the user has, including those of the response being built.</param>
    /// <param name="concernsUser">Whether an event at this place could be owed to the user (conservative: when unsure, true).</param>
    /// <returns>The new event position (never below <paramref name="events"/>) and the delivered positions above it.</returns>
    public static (long Events, DeliveredEvents Delivered) Compact(
        long events, DeliveredEvents delivered, EventPlacesWindow window, Func<EventPlace, bool> concernsUser)
    {
        var end = Math.Max(events, window.UpTo);
        foreach (var place in window.After(events))
        {
            if (delivered.Contains(place.GlobalPosition) || !concernsUser(place)) continue;
            end = place.GlobalPosition - 1;
            break;
        }
        return (end, delivered.Above(end));
    }
}
