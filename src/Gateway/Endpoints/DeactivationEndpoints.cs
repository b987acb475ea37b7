using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Deactivating the logged-in user's account for good, confirmed with their password.</summary>
internal static class DeactivationEndpoints
{
    private static readonly IReadOnlyList<IReadOnlyList<string>> Flows = [[UserInteractiveAuth.Password]];

    public static void MapDeactivationEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/_matrix/client/v3/account/deactivate", DeactivateAsync).WithBodySize(BodySize.Small);

    private static async Task<IResult> DeactivateAsync(
        HttpContext context,
        [FromServices] IGrainFactory grains,
        [FromServices] UserInteractiveAuth uia)
    {
        var session = await context.RequireSessionAsync();
        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.DeactivateRequest, context.RequestAborted);
        if (await uia.AuthorizeAsync(context, body.Auth, Flows, session.UserId) is { } challenge) return challenge;

        await grains.GetGrain<IUserGrain>(session.UserId).DeactivateAsync(body.Erase ?? false);
        // The server keeps no third-party identifiers, so none was bound at an identity server: the spec asks for
        // "success" then, whatever id_server names.
        return TypedResults.Json(new DeactivateResponse("success"), AccountsJsonContext.Default.DeactivateResponse);
    }
}
