using System.Text.Json;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
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

/// <summary>Typing notifications, receipts and the read marker.</summary>
internal static class RoomEphemeralEndpoints
{
    private const long DefaultTypingTimeoutMs = 30_000;

    public static void MapRoomEphemeralEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var rooms = endpoints.MapGroup("/_matrix/client/v3/rooms/{roomId}").WithBodySize(BodySize.Small);
        rooms.MapPut("/typing/{userId}", SetTypingAsync);
        rooms.MapPost("/receipt/{receiptType}/{eventId}", SetReceiptAsync);
        rooms.MapPost("/read_markers", SetReadMarkersAsync);
    }

    private static async Task<IResult> SetTypingAsync(HttpContext context, IGrainFactory grains, string roomId, string userId)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        roomId = RoomPath.RoomId(roomId);
        userId = RoomPath.UserId(userId);
        if (userId != session.UserId)
            throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN", "You can only set your own typing state.");
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.TypingBody);
        var typing = body.Typing ?? throw RoomPath.MissingParam("typing is required.");
        if (body.Timeout is < 0) throw RoomPath.InvalidParam("timeout must not be negative.");
        await grains.GetGrain<IRoomGrain>(roomId).SetTypingAsync(userId, typing, body.Timeout ?? DefaultTypingTimeoutMs);
        return RoomResults.Empty();
    }

    private static async Task<IResult> SetReceiptAsync(HttpContext context, IGrainFactory grains, string roomId, string receiptType, string eventId)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        roomId = RoomPath.RoomId(roomId);
        eventId = RoomPath.EventId(eventId);
        receiptType = RoomPath.Text(receiptType);
        if (receiptType is not (ReceiptTypes.Read or ReceiptTypes.ReadPrivate or ReceiptTypes.FullyRead))
            throw RoomPath.InvalidParam($"Unknown receipt type '{receiptType}'.");
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.ReceiptBody, new ReceiptBody(null));
        string? threadId = body.ThreadId switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } id when id.GetString()!.Length > 0 => id.GetString(),
            _ => throw RoomPath.InvalidParam("thread_id field must be a non-empty string."),
        };
        await grains.GetGrain<IRoomGrain>(roomId).SetReceiptAsync(new ReceiptRequest(session.UserId, receiptType, eventId, threadId));
        return RoomResults.Empty();
    }

    private static async Task<IResult> SetReadMarkersAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        roomId = RoomPath.RoomId(roomId);
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.ReadMarkersBody);
        foreach (var eventId in new[] { body.FullyRead, body.Read, body.ReadPrivate }.OfType<string>()) RoomPath.EventId(eventId);
        await grains.GetGrain<IRoomGrain>(roomId).SetReadMarkersAsync(
            new ReadMarkersRequest(session.UserId, body.FullyRead, body.Read, body.ReadPrivate));
        return RoomResults.Empty();
    }
}
