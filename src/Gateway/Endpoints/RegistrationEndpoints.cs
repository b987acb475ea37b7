using System.Security.Cryptography;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Account registration, username availability and registration token validity.</summary>
internal static class RegistrationEndpoints
{
    private static readonly IReadOnlyList<IReadOnlyList<string>> OpenFlows = [[UserInteractiveAuth.Dummy]];
    private static readonly IReadOnlyList<IReadOnlyList<string>> TokenFlows = [[UserInteractiveAuth.RegistrationToken]];

    private const string GeneratedLocalpartAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const int GeneratedLocalpartLength = 12;
    private const int GeneratedLocalpartAttempts = 5;

    public static void MapRegistrationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/_matrix/client/v3/register", RegisterAsync).WithBodySize(BodySize.Small);
        endpoints.MapGet("/_matrix/client/v3/register/available", CheckAvailabilityAsync);
        endpoints.MapGet("/_matrix/client/v1/register/m.login.registration_token/validity", CheckTokenValidity);
    }

    private static async Task<IResult> RegisterAsync(
        HttpContext context,
        [FromQuery] string? kind,
        [FromServices] IGrainFactory grains,
        [FromServices] UserInteractiveAuth uia,
        [FromServices] PasswordHasher hasher,
        [FromServices] AccountPasswords passwords,
        [FromServices] IOptions<RegistrationSettings> settings,
        [FromServices] IOptions<TokenOptions> tokens,
        [FromServices] LocalServer server)
    {
        if (kind == "guest") return await GuestRegistration.RegisterGuestAsync(context, grains, settings.Value, server);
        if (kind is not (null or "user")) throw AccountErrors.InvalidParam("kind must be user or guest.");
        if (!settings.Value.Enabled) throw AccountErrors.Forbidden("Registration is disabled");
        // As Synapse: every request is refused while the address's bucket is empty, but only an account created takes a token.
        var limits = context.RateLimits();
        limits.RequireAddressNotExhausted(context, RateLimitBucket.Registration);

        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.RegisterRequest, context.RequestAborted);
        // The spec wants username problems reported before authentication, and a request that tries to complete it must be complete.
        // Guest Access module: with guest_access_token the request upgrades that guest instead of taking a new id.
        var upgradedGuest = body.GuestAccessToken is null
            ? null
            : await GuestRegistration.RequireUpgradableGuestAsync(body.GuestAccessToken, body.Username, grains, server);
        var requestedUserId = body.Username is null || upgradedGuest is not null ? null : await RequireAvailableAsync(body.Username, grains, server);
        if (body.Auth is not null) passwords.RequireAcceptable(body.Password);

        var flows = settings.Value.RequiresToken ? TokenFlows : OpenFlows;
        if (await uia.AuthorizeAsync(context, body.Auth, flows, userId: null) is { } challenge) return challenge;

        limits.RequireForAddress(context, RateLimitBucket.Registration);
        var passwordHash = await hasher.HashAsync(body.Password!, context.RequestAborted);
        var login = body.InhibitLogin == true
            ? null
            : new DeviceLogin(body.DeviceId, body.InitialDeviceDisplayName, ClientIp(context), tokens.Value.LifetimeIfRefreshable(body.RefreshToken));
        if (upgradedGuest is not null)
            return RegisteredResponse(upgradedGuest, await grains.GetGrain<IUserGrain>(upgradedGuest).UpgradeGuestAsync(passwordHash, login), server);
        var registration = new AccountRegistration(passwordHash, IsAdmin: false, DisplayName: null, login);
        var (userId, result) = requestedUserId is null
            ? await RegisterWithGeneratedUserIdAsync(grains, server, registration)
            : (requestedUserId, await grains.GetGrain<IUserGrain>(requestedUserId).RegisterAsync(registration));
        return RegisteredResponse(userId, result, server);
    }

    private static async Task<IResult> CheckAvailabilityAsync(
        HttpContext context, [FromQuery] string? username, [FromServices] IGrainFactory grains, [FromServices] LocalServer server)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.RegistrationAvailability);
        await RequireAvailableAsync(username ?? throw AccountErrors.MissingParam("Missing parameter: username."), grains, server);
        return TypedResults.Json(new AvailabilityResponse(true), AccountsJsonContext.Default.AvailabilityResponse);
    }

    private static IResult CheckTokenValidity(
        HttpContext context, [FromQuery] string? token, [FromServices] UserInteractiveAuth uia, [FromServices] IOptions<RegistrationSettings> settings)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.RegistrationTokenValidity);
        if (token is null) throw AccountErrors.MissingParam("Missing parameter: token.");
        if (!settings.Value.Enabled) throw AccountErrors.Forbidden("Registration is not enabled on this homeserver.");
        var valid = settings.Value.RequiresToken && uia.IsRegistrationToken(token);
        return TypedResults.Json(new TokenValidityResponse(valid), AccountsJsonContext.Default.TokenValidityResponse);
    }

    /// <summary>The user id for <paramref name="username"/> (the localpart grammar, no mapping): 400 when invalid or taken.</summary>
    internal static async Task<string> RequireAvailableAsync(string username, IGrainFactory grains, LocalServer server)
    {
        if (!UserId.TryCreate(username, ServerName.Parse(server.Name), out var userId)) throw AccountErrors.InvalidUsername();
        if (GuestUserIds.IsGuestLocalpart(username)) throw AccountErrors.InvalidUsername("Numeric user IDs are reserved for guest users.");
        if (await grains.GetGrain<IUserGrain>(userId.Value).ExistsAsync()) throw AccountErrors.UserInUse();
        return userId.Value;
    }

    internal static IResult RegisteredResponse(string userId, LoginResult? result, LocalServer server) =>
        TypedResults.Json(
            new RegisterResponse(userId)
            {
                AccessToken = result?.AccessToken,
                DeviceId = result?.DeviceId,
                HomeServer = server.Name,
                RefreshToken = result?.RefreshToken,
                ExpiresInMs = result?.ExpiresInMs,
            },
            AccountsJsonContext.Default.RegisterResponse);

    internal static string? ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    private static async Task<(string UserId, LoginResult? Result)> RegisterWithGeneratedUserIdAsync(
        IGrainFactory grains, LocalServer server, AccountRegistration registration)
    {
        for (var attempt = 1; ; attempt++)
        {
            var userId = server.UserId(RandomNumberGenerator.GetString(GeneratedLocalpartAlphabet, GeneratedLocalpartLength));
            try
            {
                return (userId, await grains.GetGrain<IUserGrain>(userId).RegisterAsync(registration));
            }
            catch (MatrixRequestException taken) when (taken.ErrCode == "M_USER_IN_USE" && attempt < GeneratedLocalpartAttempts)
            {
            }
        }
    }
}
