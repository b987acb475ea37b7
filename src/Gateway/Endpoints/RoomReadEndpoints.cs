using System.Globalization;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

internal static class RoomReadEndpoints
{
    private const int DefaultLimit = 10;

    private static readonly HashSet<string> Memberships = ["join", "invite", "knock", "leave", "ban"];

    public static void MapRoomReadEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var rooms = endpoints.MapGroup("/_matrix/client/v3/rooms/{roomId}");
        rooms.MapGet("/state", GetStateAsync);
        rooms.MapGet("/state/{eventType}/{stateKey?}", GetStateEventAsync);
        rooms.MapGet("/event/{eventId}", GetEventAsync);
        rooms.MapGet("/members", GetMembersAsync);
        rooms.MapGet("/joined_members", GetJoinedMembersAsync);
        rooms.MapGet("/messages", GetMessagesAsync);
        rooms.MapGet("/context/{eventId}", GetContextAsync);
    }

    private static async Task<IResult> GetStateAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        return RoomResults.Json(await grains.GetGrain<IRoomGrain>(RoomPath.RoomId(roomId)).GetStateAsync(session.UserId));
    }

    private static async Task<IResult> GetStateEventAsync(
        HttpContext context, IGrainFactory grains, string roomId, string eventType, string? stateKey, string? format)
    {
        var session = await context.RequireSessionAsync();
        var asEvent = format switch
        {
            null or "content" => false,
            "event" => true,
            _ => throw RoomPath.InvalidParam("format must be 'content' or 'event'."),
        };
        var json = await grains.GetGrain<IRoomGrain>(RoomPath.RoomId(roomId)).GetStateEventAsync(
            session.UserId, RoomPath.Key(eventType, "event type"), RoomPath.Key(stateKey ?? "", "state key"), asEvent);
        return RoomResults.Json(json);
    }

    private static async Task<IResult> GetEventAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId)
    {
        var session = await context.RequireSessionAsync();
        var json = await grains.GetGrain<IRoomGrain>(RoomPath.RoomId(roomId))
            .GetEventAsync(new Reader(session.UserId, session.DeviceId), RoomPath.EventId(eventId));
        return RoomResults.Json(json);
    }

    private static async Task<IResult> GetMembersAsync(
        HttpContext context, IGrainFactory grains, string roomId, string? at, string? membership, string? not_membership)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        if (membership is not null && !Memberships.Contains(membership)) throw RoomPath.InvalidParam("Unknown membership.");
        if (not_membership is not null && !Memberships.Contains(not_membership)) throw RoomPath.InvalidParam("Unknown not_membership.");
        var json = await grains.GetGrain<IRoomGrain>(roomId).GetMembersAsync(session.UserId, new MembersQuery(at, membership, not_membership));
        return RoomResults.Json(json);
    }

    private static async Task<IResult> GetJoinedMembersAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        return RoomResults.Json(await grains.GetGrain<IRoomGrain>(RoomPath.RoomId(roomId)).GetJoinedMembersAsync(session.UserId));
    }

    private static async Task<IResult> GetMessagesAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var query = context.Request.Query;
        var forward = query["dir"].ToString() switch
        {
            "f" => true,
            "b" => false,
            "" => throw RoomPath.MissingParam("dir is required."),
            _ => throw RoomPath.InvalidParam("dir must be 'b' or 'f'."),
        };
        var filter = RoomEventFilterParser.Parse(Single(query["filter"]), roomId, context.InputLimits());
        var limit = ParseLimit(Single(query["limit"])) ?? filter.Limit ?? DefaultLimit;
        var json = await grains.GetGrain<IRoomGrain>(roomId).GetMessagesAsync(
            new Reader(session.UserId, session.DeviceId),
            new MessagesQuery(Single(query["from"]), Single(query["to"]), forward, limit, filter.Filter));
        return RoomResults.Json(json);
    }

    private static async Task<IResult> GetContextAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        eventId = RoomPath.EventId(eventId);
        var query = context.Request.Query;
        var filter = RoomEventFilterParser.Parse(Single(query["filter"]), roomId, context.InputLimits());
        var limit = ParseLimit(Single(query["limit"])) ?? filter.Limit ?? DefaultLimit;
        var json = await grains.GetGrain<IRoomGrain>(roomId).GetContextAsync(
            new Reader(session.UserId, session.DeviceId), new ContextQuery(eventId, limit, filter.Filter));
        return RoomResults.Json(json);
    }

    private static string? Single(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Count == 0 ? null : values[0];

    private static int? ParseLimit(string? value)
    {
        if (value is null) return null;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? limit
            : throw RoomPath.InvalidParam("limit must be a non-negative integer.");
    }
}
