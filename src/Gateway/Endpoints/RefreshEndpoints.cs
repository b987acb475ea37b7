using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// <c>POST /refresh</c> (client-server/refresh.yaml): a refresh token, not an access token, authenticates it. Each use
/// gives a new access token and a new refresh token; the used refresh token keeps working until one of the new tokens
/// is used, so a client that lost the answer can try again.
/// </summary>
internal static class RefreshEndpoints
{
    public static void MapRefreshEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/_matrix/client/v3/refresh", RefreshAsync).WithBodySize(BodySize.Small);

    private static async Task<IResult> RefreshAsync(HttpContext context, [FromServices] IGrainFactory grains, [FromServices] IOptions<TokenOptions> tokens)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var refreshToken = JsonWriterResult.OptionalString(body, "refresh_token")
            ?? throw AccountErrors.MissingParam("Missing parameter: refresh_token.");
        var userId = AccessTokens.TryGetUserIdOfRefresh(refreshToken) ?? throw UnknownRefreshToken();
        var result = await grains.GetGrain<IUserGrain>(userId).RefreshAsync(refreshToken, tokens.Value.AccessTokenLifetimeMs)
            ?? throw UnknownRefreshToken();
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("access_token"u8, result.AccessToken);
            writer.WriteString("refresh_token"u8, result.RefreshToken);
            writer.WriteNumber("expires_in_ms"u8, result.ExpiresInMs!.Value);
            writer.WriteEndObject();
        });
    }

    // The spec's answer for an unknown or used-up refresh token: the client has to log in again.
    private static MatrixException UnknownRefreshToken() =>
        new(StatusCodes.Status401Unauthorized, new MatrixError("M_UNKNOWN_TOKEN", "Unknown or revoked refresh token.") { SoftLogout = true });
}
