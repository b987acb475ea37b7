using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Sync filters of the logged-in user.</summary>
internal static class FilterEndpoints
{
    public static void MapFilterEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/_matrix/client/v3/user/{userId}/filter", CreateAsync);
        endpoints.MapGet("/_matrix/client/v3/user/{userId}/filter/{filterId}", GetAsync);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, string userId, [FromServices] IGrainFactory grains)
    {
        var user = await RequireOwnUserAsync(context, userId, grains);
        var body = await AccountsJsonBody.ReadAllAsync(context.Request);
        var limits = context.InputLimits();
        var filter = MatrixJsonBody.ParseObject(new System.Buffers.ReadOnlySequence<byte>(body), limits.MaxJsonDepth);
        var definition = MatrixJsonBody.Deserialize(new System.Buffers.ReadOnlySequence<byte>(body), AccountsJsonContext.Default.FilterDefinition, limits.MaxJsonDepth);
        RequireValid(definition);
        FilterSizeRules.Require(definition, limits);
        var filterId = await user.CreateFilterAsync(AccountsJsonBody.Compact(filter));
        return TypedResults.Json(new FilterResponse(filterId), AccountsJsonContext.Default.FilterResponse);
    }

    private static async Task<IResult> GetAsync(HttpContext context, string userId, string filterId, [FromServices] IGrainFactory grains)
    {
        var user = await RequireOwnUserAsync(context, userId, grains);
        var filter = await user.GetFilterAsync(filterId) ?? throw AccountErrors.NotFound("No such filter.");
        return AccountsJsonBody.Bytes(filter);
    }

    private static async Task<IUserGrain> RequireOwnUserAsync(HttpContext context, string userId, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        if (!UserId.IsValid(userId)) throw AccountErrors.InvalidUserId(userId);
        if (userId != session.UserId) throw AccountErrors.Forbidden("Cannot use filters of other users.");
        return grains.GetGrain<IUserGrain>(userId);
    }

    /// <summary>
    /// What the schema says beyond types: the event format is one of two, limits are not negative (the spec says above 0;
    /// Synapse takes 0, which clients send for a timeline without events).
    /// </summary>
    private static void RequireValid(FilterDefinition filter)
    {
        if (filter.EventFormat is not (null or "client" or "federation"))
            throw MatrixException.BadJson("event_format must be client or federation.");
        EventFilter?[] filters =
        [
            filter.Presence, filter.AccountData, filter.Room?.Ephemeral, filter.Room?.State, filter.Room?.Timeline, filter.Room?.AccountData,
        ];
        if (filters.Any(f => f?.Limit is < 0)) throw MatrixException.BadJson("A filter limit must be a non-negative integer.");
    }
}
