using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Discovery;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
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

/// <summary>Password login, logout and whoami.</summary>
internal static class LoginEndpoints
{
    private static readonly LoginFlowsResponse Flows = new([new LoginFlow(UserInteractiveAuth.Password)]);

    public static void MapLoginEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/login", GetFlows);
        endpoints.MapPost("/_matrix/client/v3/login", LogInAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost("/_matrix/client/v3/logout", LogOutAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost("/_matrix/client/v3/logout/all", LogOutAllAsync).WithBodySize(BodySize.Small);
        endpoints.MapGet("/_matrix/client/v3/account/whoami", (Delegate)WhoAmIAsync);
    }

    private static IResult GetFlows(HttpContext context)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        return TypedResults.Json(Flows, AccountsJsonContext.Default.LoginFlowsResponse);
    }

    private static async Task<IResult> LogInAsync(
        HttpContext context,
        [FromServices] IGrainFactory grains,
        [FromServices] PasswordHasher hasher,
        [FromServices] LocalServer server,
        [FromServices] IOptions<MatrixGatewayOptions> gateway,
        [FromServices] IOptions<TokenOptions> tokens)
    {
        var limits = context.RateLimits();
        limits.RequireForAddress(context, RateLimitBucket.LoginAddress);
        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.LoginRequest, context.RequestAborted);
        if (body.Type != UserInteractiveAuth.Password) throw new MatrixException(StatusCodes.Status400BadRequest, "M_UNKNOWN", "Bad login type.");
        var userId = LoginUser.Resolve(body.Identifier, body.User, server);
        var password = body.Password ?? throw AccountErrors.MissingParam("Missing parameter: password.");
        if (userId is not null)
        {
            // Unknown user ids are counted too, so the answers do not tell which accounts exist.
            await limits.RequireNotExhaustedAsync(userId, RateLimitBucket.LoginFailedAttempts);
            await limits.RequireForAccountAsync(userId, RateLimitBucket.LoginAccount);
        }

        var user = userId is null ? null : grains.GetGrain<IUserGrain>(userId);
        var hash = user is null ? null : await user.GetPasswordHashAsync();
        // An unknown user costs the same hashing as a wrong password, so timing does not tell which it was.
        if (!await hasher.VerifyAsync(password, hash, context.RequestAborted) || user is null || hash is null)
        {
            // As Synapse: a deactivated account has no password left to check, and says so.
            if (user is not null && hash is null && await user.IsDeactivatedAsync())
                throw new MatrixException(StatusCodes.Status403Forbidden, "M_USER_DEACTIVATED", "This account has been deactivated.");
            limits.ChargeAddress(context, RateLimitBucket.LoginAddress);
            if (userId is not null) await limits.PenalizeAccountAsync(userId, RateLimitBucket.LoginFailedAttempts, persisted: hash is not null);
            throw AccountErrors.Forbidden("Invalid username or password.");
        }

        var login = new DeviceLogin(
            body.DeviceId, body.InitialDeviceDisplayName, RegistrationEndpoints.ClientIp(context), tokens.Value.LifetimeIfRefreshable(body.RefreshToken));
        var result = await user.LogInAsync(login, hash);
        var wellKnown = new WellKnownClientResponse(new HomeServerInformation(gateway.Value.PublicBaseUrl!.TrimEnd('/')));
        return TypedResults.Json(
            new LoginResponse(result.UserId, result.AccessToken, result.DeviceId, server.Name, wellKnown)
            {
                RefreshToken = result.RefreshToken,
                ExpiresInMs = result.ExpiresInMs,
            },
            AccountsJsonContext.Default.LoginResponse);
    }

    private static async Task<IResult> LogOutAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        await grains.GetGrain<IUserGrain>(session.UserId).DeleteDevicesAsync([session.DeviceId]);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> LogOutAllAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        await grains.GetGrain<IUserGrain>(session.UserId).DeleteAllDevicesAsync();
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> WhoAmIAsync(HttpContext context)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        return TypedResults.Json(new WhoAmIResponse(session.UserId, session.DeviceId, session.IsGuest), AccountsJsonContext.Default.WhoAmIResponse);
    }
}
