using System.Globalization;
using HomeServer.Grains.Sync;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The tokens /messages accepts as <c>from</c> and <c>to</c>: a room stream token (<c>tN</c>, what /messages, /context
/// and sync's <c>prev_batch</c> return) or a /sync <c>next_batch</c> (the spec allows both). A sync token holds global
/// positions for all of the user's rooms; what it means for one room is the point after the room's last event the
/// token covers.
/// </summary>
internal static class PaginationTokens
{
    /// <summary>The room stream position the token names; M_INVALID_PARAM when it is neither kind of token.</summary>
    public static async Task<long> ResolveAsync(IHomeServerStore store, string roomId, string token, string name)
    {
        if (RoomStreamToken.TryParse(token, out var position)) return position;
        if (TryParseBackfilled(token, out position)) return position;
        if (SyncToken.TryParse(token) is { } syncToken) return await RoomPositionAsync(store, roomId, syncToken);
        throw MatrixRequestException.InvalidParam($"Invalid '{name}' token.");
    }

    /// <summary>
    /// The token of a room position: <c>tN</c> (<see cref="RoomStreamToken"/>) in the event log, <c>bN</c> for position -N
    /// in a room's backfilled history below it (docs/adr/0044).
    /// </summary>
    public static string Format(long position) =>
        position < 0 ? BackfilledPrefix + (-position).ToString(CultureInfo.InvariantCulture) : RoomStreamToken.Format(position);

    private const string BackfilledPrefix = "b";

    private static bool TryParseBackfilled(string token, out long position)
    {
        position = 0;
        if (!token.StartsWith(BackfilledPrefix, StringComparison.Ordinal) || !RoomStreamToken.TryParse("t" + token[1..], out var magnitude) || magnitude == 0)
            return false;
        position = -magnitude;
        return true;
    }

    /// <summary>
    /// The room position up to which the sync token covers the room: every event at or below its global position
    /// <see cref="SyncToken.Events"/>, then the room's events above it while they are listed as delivered (at most
    /// <see cref="DeliveredEvents.MaxCount"/>, so one read of one more than that finds the first one not delivered).
    /// </summary>
    private static async Task<long> RoomPositionAsync(IHomeServerStore store, string roomId, SyncToken token)
    {
        var after = await store.Events.GetEventsAfterAsync([roomId], token.Events, DeliveredEvents.MaxCount + 1, CancellationToken.None);
        long? covered = null;
        foreach (var e in after)
        {
            if (!token.Delivered.Contains(e.GlobalPosition)) return e.RoomPosition - 1;
            covered = e.RoomPosition;
        }
        // Nothing of the room above the token's position (or only delivered events): the token covers the whole room.
        return covered ?? long.MaxValue;
    }
}
