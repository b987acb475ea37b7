using System.Globalization;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Pagination tokens of a room's timeline: <c>t</c> followed by a per-room position N, naming the point just after
/// the event at position N (t0 is before the first event). Paginating backwards from tN starts with event N,
/// forwards with event N + 1. Sync's prev_batch tokens use the same format so /messages accepts them.
/// </summary>
public static class RoomStreamToken
{
    public static string Format(long position) => "t" + position.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? token, out long position)
    {
        position = 0;
        return token is { Length: > 1 and <= 20 }
            && token[0] == 't'
            && token.AsSpan(1).IndexOfAnyExceptInRange('0', '9') < 0
            && long.TryParse(token.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out position);
    }
}
