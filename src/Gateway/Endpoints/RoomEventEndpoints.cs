using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

internal static class RoomEventEndpoints
{
    public static void MapRoomEventEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var rooms = endpoints.MapGroup("/_matrix/client/v3/rooms/{roomId}").WithBodySize(BodySize.Event);
        rooms.MapPut("/send/{eventType}/{txnId}", SendAsync);
        // Not in the spec any more, but Synapse still serves it and old clients and bots use it: every call is a new
        // event. The transaction id made here keeps the grain call idempotent, so a call sent again after a silo is
        // lost cannot post the message twice.
        rooms.MapPost("/send/{eventType}", (HttpContext c, IGrainFactory g, string roomId, string eventType) =>
            SendAsync(c, g, roomId, eventType, $"legacy.{Guid.NewGuid():N}"));
        rooms.MapPut("/state/{eventType}/{stateKey?}", SetStateAsync);
        rooms.MapPut("/redact/{eventId}/{txnId}", RedactAsync);
    }

    private static async Task<IResult> SendAsync(HttpContext context, IGrainFactory grains, string roomId, string eventType, string? txnId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
        var content = await RoomBodies.ReadEventContentAsync(context.Request);
        var eventId = await grains.GetGrain<IRoomGrain>(roomId).SendMessageAsync(
            new MessageRequest(session.UserId, session.DeviceId, RoomPath.Key(eventType, "event type"), content, txnId is null ? null : RoomPath.Key(txnId, "transaction id")));
        return TypedResults.Json(new EventIdResponse(eventId), RoomsJsonContext.Default.EventIdResponse);
    }

    private static async Task<IResult> SetStateAsync(HttpContext context, IGrainFactory grains, string roomId, string eventType, string? stateKey)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
        var content = await RoomBodies.ReadEventContentAsync(context.Request);
        var eventId = await grains.GetGrain<IRoomGrain>(roomId).SetStateAsync(
            new StateRequest(session.UserId, RoomPath.Key(eventType, "event type"), RoomPath.Key(stateKey ?? "", "state key"), content));
        return TypedResults.Json(new EventIdResponse(eventId), RoomsJsonContext.Default.EventIdResponse);
    }

    private static async Task<IResult> RedactAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId, string txnId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        eventId = RoomPath.EventId(eventId);
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.ReasonBody, new ReasonBody(null));
        var redactionId = await grains.GetGrain<IRoomGrain>(roomId).RedactAsync(
            new RedactionRequest(session.UserId, session.DeviceId, eventId, body.Reason, RoomPath.Key(txnId, "transaction id")));
        return TypedResults.Json(new EventIdResponse(redactionId), RoomsJsonContext.Default.EventIdResponse);
    }
}
