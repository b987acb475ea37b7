using System.Globalization;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Event relationships and threads: /relations and /threads (client-server API v1).</summary>
internal static class RelationEndpoints
{
    private const int DefaultLimit = 20;

    public static void MapRelationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var rooms = endpoints.MapGroup("/_matrix/client/v1/rooms/{roomId}");
        rooms.MapGet("/relations/{eventId}", (HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
            GetRelationsAsync(context, grains, roomId, eventId, null, null));
        rooms.MapGet("/relations/{eventId}/{relType}", (HttpContext context, IGrainFactory grains, string roomId, string eventId, string relType) =>
            GetRelationsAsync(context, grains, roomId, eventId, relType, null));
        rooms.MapGet("/relations/{eventId}/{relType}/{eventType}",
            (HttpContext context, IGrainFactory grains, string roomId, string eventId, string relType, string eventType) =>
                GetRelationsAsync(context, grains, roomId, eventId, relType, eventType));
        rooms.MapGet("/threads", GetThreadsAsync);
    }

    private static async Task<IResult> GetRelationsAsync(
        HttpContext context, IGrainFactory grains, string roomId, string eventId, string? relType, string? eventType)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        eventId = RoomPath.EventId(eventId);
        relType = relType is null ? null : RoomPath.Key(relType, "relation type");
        eventType = eventType is null ? null : RoomPath.Key(eventType, "event type");
        var query = context.Request.Query;
        var forward = Single(query["dir"]) switch
        {
            null or "b" => false,
            "f" => true,
            _ => throw RoomPath.InvalidParam("dir must be 'b' or 'f'."),
        };
        var recurse = Single(query["recurse"]) switch
        {
            null => (bool?)null,
            "true" => true,
            "false" => false,
            _ => throw RoomPath.InvalidParam("recurse must be 'true' or 'false'."),
        };
        var limit = ParseLimit(Single(query["limit"]), minimum: 0) ?? DefaultLimit;
        var json = await grains.GetGrain<IRoomGrain>(roomId).GetRelationsAsync(
            new Reader(session.UserId, session.DeviceId),
            new RelationsQuery(eventId, relType, eventType, Single(query["from"]), Single(query["to"]), forward, limit, recurse));
        return RoomResults.Json(json);
    }

    private static async Task<IResult> GetThreadsAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var query = context.Request.Query;
        var participated = Single(query["include"]) switch
        {
            null or "all" => false,
            "participated" => true,
            _ => throw RoomPath.InvalidParam("include must be 'all' or 'participated'."),
        };
        var limit = ParseLimit(Single(query["limit"]), minimum: 1) ?? DefaultLimit;
        var json = await grains.GetGrain<IRoomGrain>(roomId).GetThreadsAsync(
            new Reader(session.UserId, session.DeviceId), new ThreadsQuery(participated, Single(query["from"]), limit));
        return RoomResults.Json(json);
    }

    private static string? Single(StringValues values) => values.Count == 0 ? null : values[0];

    private static int? ParseLimit(string? value, int minimum)
    {
        if (value is null) return null;
        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var limit) && limit >= minimum
            ? limit
            : throw RoomPath.InvalidParam($"limit must be an integer of at least {minimum}.");
    }
}
