using System.Globalization;

namespace HomeServer.Grains.Sync;

/// <summary>
/// The prev_batch of a timeline, in the token format of GET /rooms/{roomId}/messages: <c>t{roomPosition}</c>, meaning
/// "the point just before the event at this per-room position", so paginating backwards from it returns the events
/// before the timeline's first one.
/// </summary>
internal static class PaginationToken
{
    public static string Before(long roomPosition) => string.Create(CultureInfo.InvariantCulture, $"t{roomPosition}");
}
