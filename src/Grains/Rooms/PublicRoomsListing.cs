using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Pages of the published room directory in room id order. Tokens name the boundary room: <c>n</c> + id continues
/// after it, <c>p</c> + id returns the page before it. Going back rescans from the start, which is fine for a
/// directory of curated rooms but would need a descending store query for a very large one.
/// </summary>
internal sealed class PublicRoomsListing(IHomeServerStore store, IGrainFactory grains)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;
    private const int ScanPage = 200;

    public async Task<byte[]> ListAsync(PublicRoomsQuery query)
    {
        var limit = Math.Clamp(query.Limit ?? DefaultLimit, 1, MaxLimit);
        var (forward, boundary) = ParseSince(query.Since);
        List<PublicRoomSummary> page;
        bool hasMoreAfter, hasMoreBefore;
        if (forward)
        {
            var found = await ScanAsync(boundary, limit + 1, stopBefore: null, query);
            hasMoreAfter = found.Count > limit;
            page = found.Take(limit).ToList();
            hasMoreBefore = boundary is not null;
        }
        else
        {
            var all = await ScanAsync(null, int.MaxValue, stopBefore: boundary, query);
            page = all.Skip(Math.Max(0, all.Count - limit)).ToList();
            hasMoreBefore = all.Count > limit;
            hasMoreAfter = true;
        }

        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("chunk");
            foreach (var room in page) WriteRoom(writer, room);
            writer.WriteEndArray();
            if (hasMoreAfter && page.Count > 0) writer.WriteString("next_batch", Token('n', page[^1].RoomId));
            if (hasMoreBefore && page.Count > 0) writer.WriteString("prev_batch", Token('p', page[0].RoomId));
            writer.WriteEndObject();
        });
    }

    /// <summary>Published rooms after <paramref name="after"/> (and before <paramref name="stopBefore"/>) matching the search.</summary>
    private async Task<List<PublicRoomSummary>> ScanAsync(string? after, int want, string? stopBefore, PublicRoomsQuery query)
    {
        var found = new List<PublicRoomSummary>();
        var cursor = after;
        while (found.Count < want)
        {
            var ids = await store.Rooms.GetPublishedRoomsAsync(cursor, ScanPage, CancellationToken.None);
            foreach (var roomId in ids)
            {
                if (stopBefore is not null && string.CompareOrdinal(roomId, stopBefore) >= 0) return found;
                var summary = await grains.GetGrain<IRoomGrain>(roomId).GetPublicSummaryAsync();
                if (summary is not null && Matches(summary, query)) found.Add(summary);
                if (found.Count >= want) return found;
            }
            if (ids.Count < ScanPage) return found;
            cursor = ids[^1];
        }
        return found;
    }

    private static bool Matches(PublicRoomSummary room, PublicRoomsQuery query) =>
        (query.RoomTypes is null || query.RoomTypes.Contains(room.RoomType))
        && (string.IsNullOrEmpty(query.SearchTerm)
            || new[] { room.Name, room.Topic, room.CanonicalAlias, room.RoomId }
                .Any(text => text?.Contains(query.SearchTerm, StringComparison.OrdinalIgnoreCase) == true));

    private static (bool Forward, string? Boundary) ParseSince(string? since)
    {
        if (string.IsNullOrEmpty(since)) return (true, null);
        try
        {
            if (since[0] is 'n' or 'p')
                return (since[0] == 'n', Encoding.UTF8.GetString(Base64Url.DecodeFromChars(since.AsSpan(1))));
        }
        catch (FormatException)
        {
        }
        throw MatrixRequestException.InvalidParam("Invalid 'since' token.");
    }

    private static string Token(char direction, string roomId) =>
        direction + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(roomId));

    private static void WriteRoom(Utf8JsonWriter writer, PublicRoomSummary room)
    {
        writer.WriteStartObject();
        room.WriteFields(writer);
        writer.WriteEndObject();
    }
}
