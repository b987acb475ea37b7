using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Federation;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// What other servers read of this server's rooms: history (<c>/backfill</c>, <c>/get_missing_events</c>), auth chains
/// (<c>/event_auth</c>), <c>/timestamp_to_event</c>, the room directory (<c>/publicRooms</c>) and space hierarchies
/// (<c>/hierarchy</c>). Parameters are checked here; the room grains decide what the origin may see
/// (docs/adr/0039-federation-reads.md).
/// </summary>
internal static class FederationReadEndpoints
{
    /// <summary>Events one backfill or get_missing_events answer holds at most, whatever limit is asked.</summary>
    public const int MaxEvents = 100;

    public const int DefaultMissingEventsLimit = 10;

    public static void MapFederationReadEndpoints(this RouteGroupBuilder authenticated)
    {
        authenticated.MapGet("/v1/backfill/{roomId}", BackfillAsync);
        authenticated.MapPost("/v1/get_missing_events/{roomId}", GetMissingEventsAsync);
        authenticated.MapGet("/v1/event_auth/{roomId}/{eventId}", GetEventAuthAsync);
        authenticated.MapGet("/v1/timestamp_to_event/{roomId}", GetEventByTimestampAsync);
        authenticated.MapGet("/v1/publicRooms", GetPublicRoomsAsync);
        authenticated.MapPost("/v1/publicRooms", QueryPublicRoomsAsync);
        authenticated.MapGet("/v1/hierarchy/{roomId}", GetHierarchyAsync);
    }

    private static async Task<IResult> BackfillAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var query = context.Request.Query;
        var from = query["v"].OfType<string>().ToList();
        if (from.Count == 0) throw RoomPath.MissingParam("Missing v.");
        foreach (var id in from) RoomPath.EventId(id);
        var limit = query["limit"].Count == 0 ? throw RoomPath.MissingParam("Missing limit.") : PositiveLimit(query["limit"][0], "limit");
        var body = await grains.GetGrain<IRoomGrain>(FederationRoomEndpoints.RoomIdOf(roomId))
            .BackfillForServerAsync(context.FederationOrigin(), from, Math.Min(limit, MaxEvents));
        return TypedResults.Bytes(body, JsonContentType.Utf8);
    }

    private static async Task<IResult> GetMissingEventsAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var body = ParseObject(context.FederationBody());
        var earliest = EventIdList(body, "earliest_events");
        var latest = EventIdList(body, "latest_events");
        var limit = body["limit"] is null ? DefaultMissingEventsLimit : PositiveLimit(IntegerOf(body, "limit"), "limit");
        var minDepth = body["min_depth"] is null ? 0 : IntegerOf(body, "min_depth");
        if (latest.Count == 0) throw RoomPath.InvalidParam("latest_events must name at least one event.");
        var answer = await grains.GetGrain<IRoomGrain>(FederationRoomEndpoints.RoomIdOf(roomId)).GetMissingEventsForServerAsync(
            context.FederationOrigin(), new MissingEventsQuery(earliest, latest, (int)Math.Min(limit, MaxEvents), minDepth));
        return TypedResults.Bytes(answer, JsonContentType.Utf8);
    }

    private static async Task<IResult> GetEventAuthAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
        TypedResults.Bytes(
            await grains.GetGrain<IRoomGrain>(FederationRoomEndpoints.RoomIdOf(roomId))
                .GetEventAuthForServerAsync(context.FederationOrigin(), RoomPath.EventId(eventId)),
            JsonContentType.Utf8);

    private static async Task<IResult> GetEventByTimestampAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var query = context.Request.Query;
        var ts = query["ts"].Count == 0
            ? throw RoomPath.MissingParam("Missing ts.")
            : long.TryParse(query["ts"][0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw RoomPath.InvalidParam("ts must be an integer.");
        var forward = query["dir"].Count == 0 ? throw RoomPath.MissingParam("Missing dir.") : query["dir"][0] switch
        {
            "f" => true,
            "b" => false,
            _ => throw RoomPath.InvalidParam("dir must be 'f' or 'b'."),
        };
        var body = await grains.GetGrain<IRoomGrain>(FederationRoomEndpoints.RoomIdOf(roomId))
            .GetEventByTimestampForServerAsync(context.FederationOrigin(), ts, forward);
        return TypedResults.Bytes(body, JsonContentType.Utf8);
    }

    private static async Task<IResult> GetPublicRoomsAsync(HttpContext context, IGrainFactory grains, LocalServer server)
    {
        var query = context.Request.Query;
        int? limit = query["limit"].Count == 0 ? null : NonNegative(query["limit"][0], "limit");
        var since = query["since"].Count == 0 ? null : query["since"][0];
        var allNetworks = query["include_all_networks"].Count == 0 ? false : query["include_all_networks"][0] switch
        {
            "true" => true,
            "false" => false,
            _ => throw RoomPath.InvalidParam("include_all_networks must be true or false."),
        };
        var instance = query["third_party_instance_id"].Count == 0 ? null : query["third_party_instance_id"][0];
        return await PublicRoomsAsync(grains, server, new PublicRoomsQuery(limit, since, null), allNetworks, instance);
    }

    private static async Task<IResult> QueryPublicRoomsAsync(HttpContext context, IGrainFactory grains, LocalServer server)
    {
        PublicRoomsBody body;
        try
        {
            body = JsonSerializer.Deserialize(context.FederationBody(), RoomsJsonContext.Default.PublicRoomsBody)
                   ?? throw MatrixException.BadJson("The body must be a JSON object.");
        }
        catch (JsonException)
        {
            throw MatrixException.BadJson("The body is not a publicRooms request.");
        }
        if (body.Limit is < 0) throw RoomPath.InvalidParam("limit must not be negative.");
        var query = new PublicRoomsQuery(body.Limit, body.Since, body.Filter?.GenericSearchTerm, body.Filter?.RoomTypes);
        return await PublicRoomsAsync(grains, server, query, body.IncludeAllNetworks ?? false, body.ThirdPartyInstanceId);
    }

    /// <summary>
    /// This server bridges no third-party networks: all networks are the Matrix one, and a named third-party
    /// instance has no rooms.
    /// </summary>
    private static async Task<IResult> PublicRoomsAsync(IGrainFactory grains, LocalServer server, PublicRoomsQuery query, bool allNetworks, string? instance)
    {
        if (instance is not null && !allNetworks)
            return TypedResults.Bytes("""{"chunk":[],"total_room_count_estimate":0}"""u8.ToArray(), JsonContentType.Utf8);
        return TypedResults.Bytes(await grains.GetGrain<IRoomDirectoryGrain>(server.Name).GetPublicRoomsAsync(query), JsonContentType.Utf8);
    }

    /// <summary>
    /// The space and its direct children (the federation form does not page or recurse): children this server
    /// holds and the origin could peek or join are summarised, the others it holds are inaccessible, and children
    /// unknown here are left out.
    /// </summary>
    private static async Task<IResult> GetHierarchyAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var suggestedOnly = context.Request.Query["suggested_only"].Count == 0 ? false : context.Request.Query["suggested_only"][0] switch
        {
            "true" => true,
            "false" => false,
            _ => throw RoomPath.InvalidParam("suggested_only must be true or false."),
        };
        var origin = context.FederationOrigin();
        var root = await grains.GetGrain<IRoomGrain>(FederationRoomEndpoints.RoomIdOf(roomId)).GetPreviewForServerAsync(origin);
        if (root is not { Accessible: true })
            throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", "Room does not exist or cannot be seen by your server.");

        var children = new List<RoomPreview>();
        var inaccessible = new List<string>();
        foreach (var child in SpaceEndpoints.ChildOrder(root.Preview.Children, suggestedOnly))
        {
            var preview = await grains.GetGrain<IRoomGrain>(child.RoomId).GetPreviewForServerAsync(origin);
            if (preview is null) continue;
            if (preview.Accessible) children.Add(preview.Preview);
            else inaccessible.Add(child.RoomId);
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("room");
            WriteRoom(writer, root.Preview);
            writer.WriteStartArray("children");
            foreach (var child in children) WriteRoom(writer, child);
            writer.WriteEndArray();
            writer.WriteStartArray("inaccessible_children");
            foreach (var id in inaccessible) writer.WriteStringValue(id);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return TypedResults.Bytes(buffer.WrittenSpan.ToArray(), JsonContentType.Utf8);
    }

    private static void WriteRoom(Utf8JsonWriter writer, RoomPreview preview)
    {
        writer.WriteStartObject();
        SpaceEndpoints.WriteSummaryFields(writer, preview);
        writer.WriteStartArray("children_state");
        foreach (var child in preview.Children)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "m.space.child");
            writer.WriteString("state_key", child.RoomId);
            writer.WritePropertyName("content");
            writer.WriteRawValue(child.ContentJson, skipInputValidation: true);
            writer.WriteString("sender", child.Sender);
            writer.WriteNumber("origin_server_ts", child.OriginServerTs);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static JsonObject ParseObject(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw MatrixException.BadJson("The body must be a JSON object.");
        }
        catch (JsonException)
        {
            throw MatrixException.NotJson();
        }
    }

    private static List<string> EventIdList(JsonObject body, string name)
    {
        if (body[name] is not JsonArray array) throw MatrixException.BadJson($"{name} must be an array of event IDs.");
        return array.Select(item => item is JsonValue value && value.TryGetValue<string>(out var id)
                ? RoomPath.EventId(id)
                : throw MatrixException.BadJson($"{name} must be an array of event IDs.")).ToList();
    }

    private static long IntegerOf(JsonObject body, string name) =>
        body[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var number)
            ? number
            : throw MatrixException.BadJson($"{name} must be an integer.");

    private static int PositiveLimit(string? value, string name) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            ? (int)PositiveLimit(parsed, name)
            : throw RoomPath.InvalidParam($"{name} must be an integer.");

    /// <summary>Limits of 0 or less ask for nothing and are refused; large ones are capped by the caller.</summary>
    private static long PositiveLimit(long value, string name) =>
        value >= 1 ? Math.Min(value, int.MaxValue) : throw RoomPath.InvalidParam($"{name} must be at least 1.");

    private static int NonNegative(string? value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw RoomPath.InvalidParam($"{name} must be a non-negative integer.");
}
