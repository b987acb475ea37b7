using System.Text.Json;

namespace HomeServer.Grains.Tests.Delivery;

/// <summary>One room's timeline in a sync response: its event ids in order and whether it says events were skipped.</summary>
public sealed record ClientTimeline(string RoomId, IReadOnlyList<string> EventIds, bool Limited);

/// <summary>The parts of a /sync response body that say what was delivered, read as a client reads them.</summary>
public sealed record ClientSyncResponse(string NextBatch, IReadOnlyList<ClientTimeline> Joined, IReadOnlyList<string> Left)
{
    public static ClientSyncResponse Parse(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var joined = new List<ClientTimeline>();
        var left = new List<string>();
        if (root.TryGetProperty("rooms", out var rooms))
        {
            if (rooms.TryGetProperty("join", out var join))
            {
                foreach (var room in join.EnumerateObject()) joined.Add(TimelineOf(room.Name, room.Value));
            }
            if (rooms.TryGetProperty("leave", out var leave))
            {
                foreach (var room in leave.EnumerateObject()) left.Add(room.Name);
            }
        }
        return new ClientSyncResponse(root.GetProperty("next_batch").GetString()!, joined, left);
    }

    private static ClientTimeline TimelineOf(string roomId, JsonElement room)
    {
        if (!room.TryGetProperty("timeline", out var timeline)) return new ClientTimeline(roomId, [], false);
        var events = timeline.TryGetProperty("events", out var list)
            ? list.EnumerateArray().Select(e => e.GetProperty("event_id").GetString()!).ToList()
            : [];
        var limited = timeline.TryGetProperty("limited", out var flag) && flag.GetBoolean();
        return new ClientTimeline(roomId, events, limited);
    }
}
