using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

internal static class CapabilitiesEndpoints
{
    private static readonly CapabilitiesResponse Current = new(new Capabilities(
        ChangePassword: new BooleanCapability(true),
        RoomVersions: new RoomVersionsCapability(
            RoomVersion.V10.Id,
            RoomVersion.Supported.ToDictionary(version => version.Id, _ => "stable")),
        SetDisplayName: new BooleanCapability(true),
        SetAvatarUrl: new BooleanCapability(true),
        ThirdPartyIdChanges: new BooleanCapability(false),
        GetLoginToken: new BooleanCapability(false),
        ProfileFields: new ProfileFieldsCapability(true, [ProfileEndpoints.DisplayName, ProfileEndpoints.AvatarUrl])));

    private static readonly CapabilitiesResponse ForAdmins =
        new(Current.Capabilities with { AccountModeration = new AccountModerationCapability(Lock: true, Suspend: true) });

    public static void MapCapabilitiesEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/_matrix/client/v3/capabilities", (Delegate)GetAsync);

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        return TypedResults.Json(session.IsAdmin ? ForAdmins : Current, AccountsJsonContext.Default.CapabilitiesResponse);
    }
}
