using System.Reflection;
using System.Text.Json.Nodes;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Federation;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The server-server API under <c>/_matrix/federation</c>: <c>GET /v1/version</c> (unauthenticated) and
/// <c>GET /v1/query/profile</c>, which like every other federation endpoint requires an <c>X-Matrix</c> signature
/// (docs/adr/0033-federation-transport.md).
/// </summary>
internal static class FederationEndpoints
{
    public const string ServerImplementationName = "Orleans.HomeServer";

    public static void MapFederationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var limits = endpoints.ServiceProvider.GetRequiredService<IOptions<FederationRequestOptions>>().Value;
        endpoints.MapGet("/_matrix/federation/v1/version", GetVersion);
        var authenticated = endpoints.MapGroup("/_matrix/federation")
            .WithMetadata(new FederationBodyLimit(limits.MaxRequestBodyBytes))
            .AddEndpointFilter((context, next) =>
            {
                // Before the signature check, which may fetch keys: unauthenticated work is bounded per address.
                context.HttpContext.RateLimits().RequireForAddress(context.HttpContext, RateLimitBucket.AddressRequests);
                return next(context);
            })
            .RequireFederationAuthentication();
        authenticated.MapGet("/v1/query/profile", QueryProfileAsync);
        authenticated.MapFederationRoomEndpoints();
        authenticated.MapFederationReadEndpoints();
        authenticated.MapFederationMembershipEndpoints();
        authenticated.MapFederationKnockEndpoints();
        authenticated.MapFederationDirectoryEndpoints();
        authenticated.MapFederationKeysEndpoints();
        authenticated.MapFederationMediaEndpoints();
        endpoints.MapFederationThirdPartyInviteEndpoints(authenticated);
    }

    private static IResult GetVersion(HttpContext context)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        var version = typeof(FederationEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                      ?? typeof(FederationEndpoints).Assembly.GetName().Version?.ToString() ?? "0.0.0";
        var body = new JsonObject { ["server"] = new JsonObject { ["name"] = ServerImplementationName, ["version"] = version } };
        return TypedResults.Bytes(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), JsonContentType.Utf8);
    }

    /// <summary>
    /// A local user's public profile; with <c>field</c>, only that field. Fields the user has not set are left out, as
    /// the spec allows. Users of other servers are not this server's to answer for (400), unknown users are 404.
    /// </summary>
    private static async Task<IResult> QueryProfileAsync(HttpContext context, [FromServices] IGrainFactory grains, [FromServices] LocalServer server)
    {
        var userId = context.Request.Query["user_id"].ToString();
        if (string.IsNullOrEmpty(userId)) throw AccountErrors.MissingParam("Missing user_id.");
        if (!UserId.TryParse(userId, out var parsed)) throw AccountErrors.InvalidUserId(userId);
        if (parsed.Server.Value != server.Name) throw AccountErrors.InvalidParam($"{userId} is not a user of this server.");
        var profile = await grains.GetGrain<IUserGrain>(userId).GetProfileAsync() ?? throw AccountErrors.NotFound("Profile not found");

        var field = context.Request.Query["field"].ToString();
        var body = new JsonObject();
        if (profile.DisplayName is not null && (field.Length == 0 || field == ProfileEndpoints.DisplayName))
            body[ProfileEndpoints.DisplayName] = profile.DisplayName;
        if (profile.AvatarUrl is not null && (field.Length == 0 || field == ProfileEndpoints.AvatarUrl))
            body[ProfileEndpoints.AvatarUrl] = profile.AvatarUrl;
        return TypedResults.Bytes(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), JsonContentType.Utf8);
    }
}
