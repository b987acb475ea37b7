using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Federation;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The federation endpoints of this server's rooms: a user of another server joins (<c>make_join</c>, <c>send_join</c>
/// v1 and v2), and servers with a joined member read an event, or the state at an event (<c>/state_ids</c>,
/// <c>/state</c>), and send transactions (<c>/send</c>). The origin is the authenticated signer of the request (docs/adr/0034-inbound-federated-joins.md).
/// </summary>
internal static class FederationRoomEndpoints
{
    public static void MapFederationRoomEndpoints(this RouteGroupBuilder authenticated)
    {
        authenticated.MapGet("/v1/make_join/{roomId}/{userId}", MakeJoinAsync);
        authenticated.MapPut("/v1/send_join/{roomId}/{eventId}", SendJoinV1Async);
        authenticated.MapPut("/v2/send_join/{roomId}/{eventId}", SendJoinV2Async);
        authenticated.MapGet("/v1/event/{eventId}", GetEventAsync);
        authenticated.MapGet("/v1/state_ids/{roomId}", (HttpContext context, IGrainFactory grains, string roomId) => GetStateAsync(context, grains, roomId, idsOnly: true));
        authenticated.MapGet("/v1/state/{roomId}", (HttpContext context, IGrainFactory grains, string roomId) => GetStateAsync(context, grains, roomId, idsOnly: false));
        authenticated.MapPut("/v1/send/{txnId}", SendTransactionAsync);
    }

    private static async Task<IResult> MakeJoinAsync(HttpContext context, IGrainFactory grains, string roomId, string userId)
    {
        var versions = context.Request.Query["ver"].OfType<string>().ToList();
        // The spec's default when the joining server names no version.
        if (versions.Count == 0) versions.Add("1");
        var result = await grains.GetGrain<IRoomGrain>(RoomIdOf(roomId))
            .MakeJoinAsync(context.FederationOrigin(), RoomPath.UserId(userId), versions);
        if (result.Template is null)
            throw new MatrixException(StatusCodes.Status400BadRequest,
                new MatrixError("M_INCOMPATIBLE_ROOM_VERSION", $"The room's version {result.RoomVersion} is not among those your server supports.")
                {
                    RoomVersion = result.RoomVersion,
                });
        return TypedResults.Bytes(result.Template, JsonContentType.Utf8);
    }

    private static async Task<byte[]> SendJoinAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
        await grains.GetGrain<IRoomGrain>(RoomIdOf(roomId))
            .SendJoinAsync(new SendJoinRequest(context.FederationOrigin(), RoomPath.EventId(eventId), context.FederationBody()));

    private static async Task<IResult> SendJoinV2Async(HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
        TypedResults.Bytes(await SendJoinAsync(context, grains, roomId, eventId), JsonContentType.Utf8);

    /// <summary>The deprecated v1 answer: the same body inside <c>[200, body]</c>.</summary>
    private static async Task<IResult> SendJoinV1Async(HttpContext context, IGrainFactory grains, string roomId, string eventId)
    {
        var body = await SendJoinAsync(context, grains, roomId, eventId);
        var wrapped = new byte[body.Length + 6];
        "[200,"u8.CopyTo(wrapped);
        body.CopyTo(wrapped, 5);
        wrapped[^1] = (byte)']';
        return TypedResults.Bytes(wrapped, JsonContentType.Utf8);
    }

    private static async Task<IResult> GetEventAsync(HttpContext context, IGrainFactory grains, string eventId) =>
        TypedResults.Bytes(
            await grains.GetGrain<IEventLookupGrain>("local").GetEventForServerAsync(context.FederationOrigin(), RoomPath.EventId(eventId)),
            JsonContentType.Utf8);

    private static async Task<IResult> GetStateAsync(HttpContext context, IGrainFactory grains, string roomId, bool idsOnly)
    {
        var eventId = context.Request.Query["event_id"].ToString();
        if (eventId.Length == 0) throw RoomPath.MissingParam("Missing event_id.");
        var body = await grains.GetGrain<IRoomGrain>(RoomIdOf(roomId))
            .GetStateForServerAsync(context.FederationOrigin(), RoomPath.EventId(eventId), idsOnly);
        return TypedResults.Bytes(body, JsonContentType.Utf8);
    }

    /// <summary>A transaction of PDUs and EDUs (docs/adr/0036-inbound-transactions.md); the origin's grain processes it.</summary>
    private static async Task<IResult> SendTransactionAsync(HttpContext context, IGrainFactory grains, string txnId) =>
        TypedResults.Bytes(
            await grains.GetGrain<IFederationTransactionGrain>(context.FederationOrigin()).ReceiveAsync(RoomPath.Text(txnId), context.FederationBody()),
            JsonContentType.Utf8);

    /// <summary>A malformed room id names no room this server knows: 404, as the spec answers for unknown rooms.</summary>
    internal static string RoomIdOf(string value)
    {
        var decoded = RoomPath.Text(value);
        return Grains.Identifiers.RoomId.IsValid(decoded)
            ? decoded
            : throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", "Unknown room.");
    }
}
