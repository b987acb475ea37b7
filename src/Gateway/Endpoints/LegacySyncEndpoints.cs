using System.Globalization;
using System.Text.Json;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The deprecated sync API that tools, bots and room previews still use: <c>GET /rooms/{roomId}/initialSync</c>
/// (also for peeking into world_readable rooms), <c>GET /initialSync</c>, <c>GET /events/{eventId}</c> and <c>GET /events</c> (with
/// <c>room_id</c>: a room's stream, for peeking; without: the user's stream, served by the sync grain).
/// </summary>
internal static class LegacySyncEndpoints
{
    // As Synapse's pagination default for these endpoints.
    private const int DefaultLimit = 10;
    // The room grain's largest page.
    private const int MaxLimit = 1_000;

    // What /initialSync and /events need of the sync grain: rooms, memberships, tokens and account data, no state.
    private const string InitialSyncRoomsFilter =
        """{"room":{"timeline":{"limit":1},"state":{"types":[]},"ephemeral":{"types":[]},"account_data":{"types":[]}}}""";
    private const string InitialSyncArchivedRoomsFilter =
        """{"room":{"timeline":{"limit":1},"state":{"types":[]},"ephemeral":{"types":[]},"account_data":{"types":[]},"include_leave":true}}""";
    private const string NowFilter = """{"room":{"rooms":[]},"account_data":{"types":[]},"presence":{"types":[]}}""";
    // More new events in a room than the limit give its newest ones (a gapped /sync timeline), as Synapse's /events
    // does; a token of another sync grain activation gets its backlog whole over consecutive answers (docs/adr/0007).
    private static string StreamFilter(int limit) =>
        $$$"""{"room":{"timeline":{"limit":{{{Math.Max(limit, 1)}}}},"state":{"types":[]},"account_data":{"types":[]}},"account_data":{"types":[]}}""";
    // The most events of one room in one /events answer, as the room grain's.
    private const int MaxEventsLimit = 100;

    public static void MapLegacySyncEndpoints(this IEndpointRouteBuilder endpoints)
    {
        foreach (var version in new[] { "v3", "r0" })
        {
            endpoints.MapGet($"/_matrix/client/{version}/rooms/{{roomId}}/initialSync", RoomInitialSyncAsync);
            endpoints.MapGet($"/_matrix/client/{version}/initialSync", InitialSyncAsync);
            endpoints.MapGet($"/_matrix/client/{version}/events", EventsAsync);
            endpoints.MapGet($"/_matrix/client/{version}/events/{{eventId}}", GetEventAsync);
        }
    }

    private static async Task<IResult> RoomInitialSyncAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var limit = ParseLimit(context.Request.Query["limit"]);
        var json = await grains.GetGrain<IRoomGrain>(roomId).GetInitialSyncAsync(new Reader(session.UserId, session.DeviceId), limit);
        return RoomResults.Json(json);
    }

    private static async Task<IResult> InitialSyncAsync(HttpContext context, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var limit = ParseLimit(context.Request.Query["limit"]);
        var archived = context.Request.Query["archived"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            _ => throw RoomPath.InvalidParam("archived must be true or false."),
        };
        var reader = new Reader(session.UserId, session.DeviceId);
        var sync = await grains.GetGrain<ISyncGrain>(session.UserId).SyncAsync(
            new SyncRequest(session.DeviceId, null, archived ? InitialSyncArchivedRoomsFilter : InitialSyncRoomsFilter, false, TimeSpan.Zero)
            {
                WithoutToDevice = true,
            },
            context.RequestAborted);
        using var document = JsonDocument.Parse(sync.Body.ToArray());
        var root = document.RootElement;

        var joinedOrLeft = new List<string>();
        foreach (var section in new[] { "join", "leave" })
        {
            if (TryGetRooms(root, section, out var rooms)) joinedOrLeft.AddRange(rooms.EnumerateObject().Select(r => r.Name));
        }
        var roomBodies = await Task.WhenAll(joinedOrLeft.Select(roomId => grains.GetGrain<IRoomGrain>(roomId).GetInitialSyncAsync(reader, limit)));

        using var output = new MemoryStream();
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("end", sync.NextBatch);
            writer.WriteStartArray("presence");
            writer.WriteEndArray();
            writer.WriteStartArray("rooms");
            foreach (var body in roomBodies) writer.WriteRawValue(body, skipInputValidation: true);
            if (TryGetRooms(root, "invite", out var invites))
            {
                foreach (var invite in invites.EnumerateObject()) WriteInvitedRoom(writer, invite.Name, invite.Value, session.UserId);
            }
            writer.WriteEndArray();
            writer.WriteStartArray("account_data");
            if (root.TryGetProperty("account_data", out var accountData) && accountData.TryGetProperty("events", out var events))
            {
                foreach (var e in events.EnumerateArray()) e.WriteTo(writer);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return RoomResults.Json(output.ToArray());
    }

    /// <summary>An invited room as /initialSync lists it: the membership and the invite as the stripped state shows it.</summary>
    private static void WriteInvitedRoom(Utf8JsonWriter writer, string roomId, JsonElement room, string userId)
    {
        writer.WriteStartObject();
        writer.WriteString("room_id", roomId);
        writer.WriteString("membership", "invite");
        if (room.TryGetProperty("invite_state", out var state) && state.TryGetProperty("events", out var events))
        {
            foreach (var e in events.EnumerateArray())
            {
                if (e.GetProperty("type").GetString() != "m.room.member" || e.GetProperty("state_key").GetString() != userId) continue;
                writer.WritePropertyName("invite");
                writer.WriteStartObject();
                foreach (var property in e.EnumerateObject()) property.WriteTo(writer);
                writer.WriteString("room_id", roomId);
                writer.WriteEndObject();
            }
        }
        writer.WriteEndObject();
    }

    private static async Task<IResult> GetEventAsync(HttpContext context, IGrainFactory grains, string eventId)
    {
        var session = await context.RequireSessionAsync();
        var json = await grains.GetGrain<IEventLookupGrain>("local").GetEventAsync(new Reader(session.UserId, session.DeviceId), RoomPath.EventId(eventId));
        return RoomResults.Json(json);
    }

    private static async Task<IResult> EventsAsync(HttpContext context, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var query = context.Request.Query;
        var timeout = LongPoll.Timeout(query["timeout"]);
        var from = NullIfEmpty(query["from"].ToString());
        var roomId = NullIfEmpty(query["room_id"].ToString());
        var limit = query["limit"].Count == 0 ? MaxEventsLimit : Math.Min(ParseLimit(query["limit"]), MaxEventsLimit);
        var reader = new Reader(session.UserId, session.DeviceId);
        if (roomId is not null)
            return RoomResults.Json(await RoomEventsAsync(grains, RoomPath.RoomId(roomId), reader, from, limit, timeout, context.RequestAborted));
        // Guests may use /events only for room previews, with room_id.
        if (session.IsGuest) throw GuestRegistration.GuestAccessForbidden("Guests may call /events only with room_id.");
        return RoomResults.Json(await UserEventsAsync(grains, session, from, limit, timeout, context.RequestAborted));
    }

    private static async Task<byte[]> RoomEventsAsync(
        IGrainFactory grains, string roomId, Reader reader, string? from, int limit, TimeSpan timeout, CancellationToken aborted)
    {
        if (from is not null && !RoomStreamToken.TryParse(from, out _))
            throw RoomPath.InvalidParam("from must be a token of this room's stream (from its initialSync or an earlier /events).");
        var room = grains.GetGrain<IRoomGrain>(roomId);
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var slice = LongPoll.NextWait(deadline);
            var json = await room.GetEventsAfterAsync(reader, from, limit, slice);
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.GetProperty("chunk").GetArrayLength() > 0 || DateTimeOffset.UtcNow >= deadline || aborted.IsCancellationRequested)
                return json;
            from = document.RootElement.GetProperty("end").GetString();
        }
    }

    /// <summary>
    /// The user's own stream: the events of their rooms after <paramref name="from"/> (a token of /initialSync,
    /// /sync or an earlier /events; none: from now), from the sync grain's incremental sync, flattened into one chunk
    /// of events that carry their room_id.
    /// </summary>
    private static async Task<byte[]> UserEventsAsync(
        IGrainFactory grains, Session session, string? from, int limit, TimeSpan timeout, CancellationToken aborted)
    {
        var grain = grains.GetGrain<ISyncGrain>(session.UserId);
        from ??= (await grain.SyncAsync(new SyncRequest(session.DeviceId, null, NowFilter, false, TimeSpan.Zero) { WithoutToDevice = true }, aborted)).NextBatch;
        var since = from;
        var deadline = DateTimeOffset.UtcNow + timeout;
        SyncResponse response;
        while (true)
        {
            var slice = LongPoll.NextWait(deadline);
            response = await grain.SyncAsync(new SyncRequest(session.DeviceId, since, StreamFilter(limit), false, slice) { WithoutToDevice = true }, aborted);
            if (!response.IsEmpty || response.Superseded || DateTimeOffset.UtcNow >= deadline || aborted.IsCancellationRequested) break;
            since = response.NextBatch;
        }

        using var document = JsonDocument.Parse(response.Body.ToArray());
        using var output = new MemoryStream();
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("start", from);
            writer.WriteString("end", response.NextBatch);
            writer.WriteStartArray("chunk");
            foreach (var section in new[] { "join", "leave" })
            {
                if (!TryGetRooms(document.RootElement, section, out var rooms)) continue;
                foreach (var room in rooms.EnumerateObject())
                {
                    WriteWithRoomId(writer, room.Value, "timeline", room.Name);
                    WriteWithRoomId(writer, room.Value, "ephemeral", room.Name);
                }
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return output.ToArray();
    }

    private static void WriteWithRoomId(Utf8JsonWriter writer, JsonElement room, string section, string roomId)
    {
        if (!room.TryGetProperty(section, out var part) || !part.TryGetProperty("events", out var events)) return;
        foreach (var e in events.EnumerateArray())
        {
            writer.WriteStartObject();
            foreach (var property in e.EnumerateObject())
            {
                if (property.Name != "room_id") property.WriteTo(writer);
            }
            writer.WriteString("room_id", roomId);
            writer.WriteEndObject();
        }
    }

    private static bool TryGetRooms(JsonElement root, string section, out JsonElement rooms)
    {
        rooms = default;
        return root.TryGetProperty("rooms", out var all) && all.TryGetProperty(section, out rooms) && rooms.ValueKind == JsonValueKind.Object;
    }

    private static int ParseLimit(Microsoft.Extensions.Primitives.StringValues values)
    {
        var value = values.Count == 0 ? null : values[0];
        if (string.IsNullOrEmpty(value)) return DefaultLimit;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? Math.Min(limit, MaxLimit)
            : throw RoomPath.InvalidParam("limit must be a non-negative integer.");
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
