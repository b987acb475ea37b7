using System.Text.Json;
using System.Text.Json.Serialization;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary><c>POST /rooms/{roomId}/upgrade</c> (client-server/room_upgrades.yaml); the room grain does the upgrade.</summary>
internal static class RoomUpgradeEndpoints
{
    public static void MapRoomUpgradeEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/_matrix/client/v3/rooms/{roomId}/upgrade", UpgradeAsync).WithBodySize(BodySize.Small);

    private static async Task<IResult> UpgradeAsync(HttpContext context, string roomId, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        if (!body.TryGetProperty("new_version", out var version) || version.ValueKind == JsonValueKind.Null)
            throw AccountErrors.MissingParam("new_version is required.");
        if (version.ValueKind != JsonValueKind.String) throw MatrixException.BadJson("new_version must be a string.");
        // An upgrade creates a room: it counts against the same limit as POST /createRoom.
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.RoomCreation);
        var replacement = await grains.GetGrain<IRoomGrain>(roomId).UpgradeAsync(session.UserId, version.GetString()!);
        return TypedResults.Json(new UpgradeResponse(replacement), RoomUpgradeJsonContext.Default.UpgradeResponse);
    }
}

internal sealed record UpgradeResponse([property: JsonPropertyName("replacement_room")] string ReplacementRoom);

[JsonSerializable(typeof(UpgradeResponse))]
internal sealed partial class RoomUpgradeJsonContext : JsonSerializerContext;
