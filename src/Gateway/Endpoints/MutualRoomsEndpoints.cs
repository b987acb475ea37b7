using System.Text.Json.Serialization;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// <c>GET /_matrix/client/v1/mutual_rooms</c> (client-server/mutual_rooms.yaml): the rooms both users are joined to,
/// in room id order, <see cref="BatchSize"/> at a time; <c>next_batch</c> is the last room id of the batch.
/// </summary>
internal static class MutualRoomsEndpoints
{
    internal const int BatchSize = 50;

    public static void MapMutualRoomsEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/_matrix/client/v1/mutual_rooms", GetMutualRoomsAsync);

    private static async Task<IResult> GetMutualRoomsAsync(
        HttpContext context, [FromServices] IGrainFactory grains, [FromQuery(Name = "user_id")] string? userId, string? from)
    {
        var session = await context.RequireSessionAsync();
        if (string.IsNullOrEmpty(userId)) throw AccountErrors.MissingParam("user_id is required.");
        if (!UserId.IsValid(userId)) throw AccountErrors.InvalidUserId(userId);
        if (userId == session.UserId) throw AccountErrors.InvalidParam("user_id must be another user.");
        if (from is not null && !RoomId.IsValid(from)) throw AccountErrors.InvalidParam("from is not a next_batch token of this endpoint.");

        var mine = grains.GetGrain<IUserRoomsGrain>(session.UserId).GetJoinedRoomsAsync();
        var theirs = grains.GetGrain<IUserRoomsGrain>(userId).GetJoinedRoomsAsync();
        var mutual = (await mine).Intersect(await theirs).Order(StringComparer.Ordinal).ToList();
        var remaining = from is null ? mutual : mutual.Where(roomId => string.CompareOrdinal(roomId, from) > 0).ToList();
        var batch = remaining.Take(BatchSize).ToArray();
        var next = remaining.Count > BatchSize ? batch[^1] : null;
        return TypedResults.Json(new MutualRooms(batch, mutual.Count, next), MutualRoomsJsonContext.Default.MutualRooms);
    }
}

internal sealed record MutualRooms(
    [property: JsonPropertyName("joined")] string[] Joined,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("next_batch"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NextBatch);

[JsonSerializable(typeof(MutualRooms))]
internal sealed partial class MutualRoomsJsonContext : JsonSerializerContext;
