using System.Buffers;
using System.Globalization;
using System.Text.Json;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Spaces and room previews: <c>GET /_matrix/client/v1/rooms/{roomId}/hierarchy</c> (client-server/space_hierarchy.yaml)
/// and <c>GET /_matrix/client/v1/room_summary/{roomIdOrAlias}</c> (client-server/room_summary.yaml, MSC3266). Which
/// rooms a user may preview is the room grain's rule (<see cref="IRoomGrain.GetPreviewAsync"/>).
/// </summary>
internal static class SpaceEndpoints
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 50;
    public const int DepthLimit = 10;

    /// <summary>Rooms looked at per request at most, however the tree is shaped.</summary>
    private const int MaxRoomsVisited = 500;

    public static void MapSpaceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v1/rooms/{roomId}/hierarchy", GetHierarchyAsync);
        endpoints.MapGet("/_matrix/client/v1/room_summary/{roomIdOrAlias}", GetRoomSummaryAsync);
    }

    private static async Task<IResult> GetRoomSummaryAsync(HttpContext context, [FromServices] IGrainFactory grains, [FromServices] LocalServer server, string roomIdOrAlias)
    {
        // Anonymous callers may preview what anyone could join or read (the spec allows it for exactly those rooms).
        string? userId = SessionAuthentication.ReadAccessToken(context.Request) is null ? null : (await context.RequireSessionAsync()).UserId;
        var roomId = await RoomTarget.ResolveAsync(grains, server, roomIdOrAlias);
        var preview = await grains.GetGrain<IRoomGrain>(roomId).GetPreviewAsync(userId)
            ?? throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", "Room not found.");
        return Json(writer =>
        {
            writer.WriteStartObject();
            WriteSummaryFields(writer, preview);
            if (userId is not null) writer.WriteString("membership", preview.Membership ?? "leave");
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> GetHierarchyAsync(
        HttpContext context, [FromServices] IGrainFactory grains, string roomId,
        [FromQuery(Name = "suggested_only")] string? suggestedOnly, [FromQuery(Name = "max_depth")] string? maxDepth, string? limit, string? from)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var query = HierarchyQuery.Parse(suggestedOnly, maxDepth, limit, from);

        var root = await grains.GetGrain<IRoomGrain>(roomId).GetPreviewAsync(session.UserId)
            ?? throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN", "You are not allowed to view this room.");

        var page = new List<RoomPreview>();
        var found = 0;
        var more = false;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(string RoomId, int Depth)>();
        stack.Push((roomId, 0));
        while (stack.Count > 0 && visited.Count < MaxRoomsVisited)
        {
            var (next, depth) = stack.Pop();
            if (!visited.Add(next)) continue;
            var preview = next == roomId ? root : await grains.GetGrain<IRoomGrain>(next).GetPreviewAsync(session.UserId);
            if (preview is null) continue;
            if (found++ < query.Skip) { }
            else if (page.Count < query.Limit) page.Add(preview);
            else
            {
                more = true;
                break;
            }
            if (depth >= query.MaxDepth) continue;
            // Depth first, in the spec's child order: pushed in reverse so the first child is looked at first.
            foreach (var child in ChildOrder(preview.Children, query.SuggestedOnly).Reverse()) stack.Push((child.RoomId, depth + 1));
        }

        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("rooms");
            foreach (var preview in page)
            {
                writer.WriteStartObject();
                WriteSummaryFields(writer, preview);
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
            writer.WriteEndArray();
            if (more) writer.WriteString("next_batch", query.NextToken(query.Skip + page.Count));
            writer.WriteEndObject();
        });
    }

    /// <summary>The spec's ordering of children: by <c>order</c> (those without one last), then origin_server_ts, then room id.</summary>
    internal static IEnumerable<SpaceChild> ChildOrder(IReadOnlyList<SpaceChild> children, bool suggestedOnly) =>
        children.Where(c => !suggestedOnly || c.Suggested)
            .OrderBy(c => c.Order is null)
            .ThenBy(c => c.Order, StringComparer.Ordinal)
            .ThenBy(c => c.OriginServerTs)
            .ThenBy(c => c.RoomId, StringComparer.Ordinal);

    internal static void WriteSummaryFields(Utf8JsonWriter writer, RoomPreview preview)
    {
        preview.Summary.WriteFields(writer);
        if (preview.AllowedRoomIds.Count > 0)
        {
            writer.WriteStartArray("allowed_room_ids");
            foreach (var allowed in preview.AllowedRoomIds) writer.WriteStringValue(allowed);
            writer.WriteEndArray();
        }
        if (preview.Encryption is not null) writer.WriteString("encryption", preview.Encryption);
        writer.WriteString("room_version", preview.RoomVersion);
    }

    private static IResult Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return TypedResults.Bytes(buffer.WrittenSpan.ToArray(), JsonContentType.Utf8);
    }

    /// <summary>
    /// The hierarchy's paging: a token carries how many rooms were already returned and the first request's
    /// max_depth and suggested_only, which later requests may not change. The walk is repeated from the root, so a
    /// tree that changes between pages may repeat or skip a room, never fail.
    /// </summary>
    private sealed record HierarchyQuery(bool SuggestedOnly, int MaxDepth, int Limit, int Skip)
    {
        public static HierarchyQuery Parse(string? suggestedOnly, string? maxDepth, string? limit, string? from)
        {
            var suggested = suggestedOnly switch
            {
                null or "false" => false,
                "true" => true,
                _ => throw RoomPath.InvalidParam("suggested_only must be true or false."),
            };
            var depth = maxDepth is null ? DepthLimit : Math.Min(NonNegative(maxDepth, "max_depth"), DepthLimit);
            var count = limit is null ? DefaultLimit : NonNegative(limit, "limit");
            if (count == 0) throw RoomPath.InvalidParam("limit must be greater than zero.");
            count = Math.Min(count, MaxLimit);
            var skip = 0;
            if (from is not null)
            {
                var parts = from.Split('_');
                if (parts.Length != 3 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out skip)
                    || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var tokenDepth) || parts[2] is not ("0" or "1"))
                    throw RoomPath.InvalidParam("from is not a next_batch token of this endpoint.");
                if (tokenDepth != depth || (parts[2] == "1") != suggested)
                    throw RoomPath.InvalidParam("suggested_only and max_depth cannot change on paginated requests.");
            }
            return new HierarchyQuery(suggested, depth, count, skip);
        }

        public string NextToken(int skip) => string.Create(CultureInfo.InvariantCulture, $"{skip}_{MaxDepth}_{(SuggestedOnly ? 1 : 0)}");

        private static int NonNegative(string value, string name) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw RoomPath.InvalidParam($"{name} must be a non-negative integer.");
    }
}
