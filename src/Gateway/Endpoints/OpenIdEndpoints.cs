using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// OpenID: a user asks for a token (client-server/openid.yaml) and gives it to a third party, which learns who the user
/// is from <c>GET /_matrix/federation/v1/openid/userinfo</c> (server-server/openid.yaml). That endpoint needs no
/// federation signature: the token is the proof.
/// </summary>
internal static class OpenIdEndpoints
{
    public static void MapOpenIdEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/_matrix/client/v3/user/{userId}/openid/request_token", RequestTokenAsync).WithBodySize(BodySize.Small);
        endpoints.MapGet("/_matrix/federation/v1/openid/userinfo", UserInfoAsync);
    }

    private static async Task<IResult> RequestTokenAsync(
        HttpContext context, string userId, [FromServices] IGrainFactory grains, [FromServices] IOptions<TokenOptions> tokens, [FromServices] LocalServer server)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        // The body is an empty object; anything but an object is refused.
        await AccountsJsonBody.ReadObjectAsync(context.Request);
        if (userId != session.UserId) throw AccountErrors.Forbidden("Cannot request an OpenID token for another user.");
        var lifetime = tokens.Value.OpenIdTokenLifetime;
        var token = await grains.GetGrain<IUserGrain>(session.UserId).RequestOpenIdTokenAsync((long)lifetime.TotalMilliseconds);
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("access_token"u8, token);
            writer.WriteString("token_type"u8, "Bearer");
            writer.WriteString("matrix_server_name"u8, server.Name);
            writer.WriteNumber("expires_in"u8, (long)lifetime.TotalSeconds);
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> UserInfoAsync(HttpContext context, [FromQuery(Name = "access_token")] string? accessToken, [FromServices] IGrainFactory grains)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        if (string.IsNullOrEmpty(accessToken))
            throw new MatrixException(StatusCodes.Status401Unauthorized, "M_MISSING_TOKEN", "Missing parameter: access_token.");
        var userId = AccessTokens.TryGetUserIdOfOpenId(accessToken);
        if (userId is null || !await grains.GetGrain<IUserGrain>(userId).IsOpenIdTokenValidAsync(accessToken)) throw new MatrixException(StatusCodes.Status401Unauthorized, "M_UNKNOWN_TOKEN", "Unknown or expired OpenID token.");
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("sub"u8, userId);
            writer.WriteEndObject();
        });
    }
}
